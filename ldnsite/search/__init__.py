"""Search: the Whoosh index of pages and forum posts, its outbox-driven indexer and /search.

Every `import whoosh` stays inside this package: Whoosh no longer gets
releases, so a later switch must touch one place only.
"""

from flask import Blueprint, Flask

bp = Blueprint("search", __name__)


def init_app(app: Flask) -> None:
    from ldnsite.search import models  # noqa: F401

    app.register_blueprint(bp)
