"""Accounts: registration, email verification, sign-in, settings, data export and deletion."""

from __future__ import annotations

from flask import Blueprint, Flask

from ldnsite.accounts.models import User
from ldnsite.accounts.sessions import session_ended
from ldnsite.db import get_session
from ldnsite.extensions import login_manager

bp = Blueprint("accounts", __name__, url_prefix="/account")


@login_manager.user_loader
def load_user(user_id: str):
    """Session ids are "<id>:<session_version>", so bumping the version signs out old sessions."""
    try:
        uid, version = (int(part) for part in user_id.split(":", 1))
    except ValueError:
        return None
    user = get_session().get(User, uid)
    if user is None or user.session_version != version or not user.is_active:
        return None
    if session_ended():
        return None
    return user


def init_app(app: Flask) -> None:
    # Importing the route modules registers their views on bp.
    from ldnsite.accounts import email_change, models, mydata, recovery, registration, settings, signin  # noqa: F401
    from ldnsite.accounts.cli import users_cli

    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
