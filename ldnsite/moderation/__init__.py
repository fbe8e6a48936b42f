"""Moderation: queue, approve/remove/restore, locks, suspensions and the append-only log."""

from flask import Blueprint, Flask

bp = Blueprint("moderation", __name__, url_prefix="/moderation")


def init_app(app: Flask) -> None:
    from ldnsite.moderation import models  # noqa: F401

    app.register_blueprint(bp)
