"""Search: the Whoosh index of pages and forum posts, its outbox-driven indexer and /search.

Every `import whoosh` stays inside this package: Whoosh no longer gets
releases, so a later switch must touch one place only.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app
from sqlalchemy import event

from ldnsite import hooks
from ldnsite.search.outbox import PENDING_FLAG, enqueue

bp = Blueprint("search", __name__)
log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    from ldnsite.search import cli, models, routes  # noqa: F401  (routes register on bp)
    from ldnsite.search.indexer import Indexer
    from ldnsite.search.service import POSTING_CACHE_MB, SearchService
    from ldnsite.search.storage import IndexStore

    store = IndexStore(app.config["INDEX_DIR"], mmap=bool(app.config.get("SEARCH_INDEX_MMAP", False)))
    indexer = Indexer(app, store)
    app.extensions["search_indexer"] = indexer
    app.extensions["search"] = SearchService(
        store, indexer, cache_mb=int(app.config.get("SEARCH_POSTING_CACHE_MB", POSTING_CACHE_MB)))
    _index_after_commit(app, indexer)
    # The forum (below search) says when a topic or post changed; the outbox row it leaves is indexed after the commit.
    hooks.register(app, hooks.FORUM_CHANGED, enqueue)
    app.register_blueprint(bp)
    app.cli.add_command(cli.index_cli)


def _index_after_commit(app: Flask, indexer) -> None:
    """Apply outbox rows right after the transaction that wrote them commits.

    If this fails or the process dies first, the rows stay in the outbox for
    the next commit's sync or `flask index sync`: nothing is lost.
    """
    maker = app.extensions["db_sessionmaker"]

    def after_commit(session) -> None:
        if session.in_nested_transaction():  # a savepoint was released; the real commit comes later
            return
        if not session.info.pop(PENDING_FLAG, False) or not app.config.get("SEARCH_INDEX_ON_COMMIT", True):
            return
        try:
            # No index yet: leave the rows; the first search or `index ensure` builds it from the database.
            indexer.sync(build=False)
        except Exception:  # the outbox keeps the rows; never fail the reader's request over the index
            log.exception("search: index update after commit failed; rows stay in the outbox")

    def after_rollback(session) -> None:
        session.info.pop(PENDING_FLAG, None)

    event.listen(maker, "after_commit", after_commit)
    event.listen(maker, "after_rollback", after_rollback)


def service():
    return current_app.extensions["search"]
