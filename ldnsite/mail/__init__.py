"""Mail: the one mailer, its queue, the suppression list, opt-out and one-click unsubscribe."""

from flask import Blueprint, Flask

bp = Blueprint("mail", __name__)


def init_app(app: Flask) -> None:
    from ldnsite.mail import models  # noqa: F401

    app.register_blueprint(bp)
