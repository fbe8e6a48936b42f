"""Forum: topics, replies, edits, reports and reply notifications."""

from flask import Blueprint, Flask

bp = Blueprint("forum", __name__, url_prefix="/forum")


def init_app(app: Flask) -> None:
    from ldnsite.forum import models  # noqa: F401

    app.register_blueprint(bp)
