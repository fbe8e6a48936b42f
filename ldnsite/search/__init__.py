"""Search: /search over pages and forum posts, with one of two engines behind one seam (engine.py).

SEARCH_BACKEND "whoosh" (the default): a Whoosh index on each node, kept
current by the outbox-driven indexer. "postgres": documents in PostgreSQL,
written in the changing transaction (pg_engine.py), no per-node state.
Every `import whoosh` stays inside this package.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app
from sqlalchemy import event

from ldnsite import hooks
from ldnsite.search.outbox import PENDING_FLAG, enqueue

bp = Blueprint("search", __name__)
log = logging.getLogger(__name__)


BACKENDS = ("whoosh", "postgres")


def init_app(app: Flask) -> None:
    from ldnsite.search import cli, models, routes  # noqa: F401  (routes register on bp)
    from ldnsite.search.service import SearchService

    backend = check_backend(app.config)
    if backend == "postgres":
        from ldnsite.search import pg_engine

        engine, indexer = pg_engine.init(app)
    else:
        from ldnsite.search.indexer import Indexer
        from ldnsite.search.storage import IndexStore
        from ldnsite.search.whoosh_engine import WhooshEngine

        store = IndexStore(app.config["INDEX_DIR"], mmap=bool(app.config["SEARCH_INDEX_MMAP"]))
        indexer = Indexer(app, store)
        engine = WhooshEngine(store, indexer, int(app.config["SEARCH_POSTING_CACHE_MB"]))
        _index_after_commit(app, indexer)
    app.extensions["search_indexer"] = indexer
    app.extensions["search"] = SearchService(engine)
    # The forum (below search) says when a topic or post changed; the outbox row it leaves is indexed after the commit.
    hooks.register(app, hooks.FORUM_CHANGED, enqueue)
    app.register_blueprint(bp)
    app.cli.add_command(cli.index_cli)


def check_backend(config) -> str:
    """The configured engine; refuses to start with one the database cannot serve, saying what to change."""
    backend = str(config["SEARCH_BACKEND"] or "whoosh").strip().lower()
    if backend not in BACKENDS:
        raise RuntimeError(f"SEARCH_BACKEND (FLASK_SEARCH_BACKEND) must be 'whoosh' or 'postgres', not {backend!r}")
    url = str(config["DATABASE_URL"])
    if backend == "postgres" and not url.startswith("postgresql"):
        scheme = url.split(":", 1)[0] or "none"
        raise RuntimeError(
            "SEARCH_BACKEND=postgres searches in PostgreSQL, but DATABASE_URL is not a PostgreSQL database "
            f"({scheme}). Set FLASK_DATABASE_URL=postgresql+psycopg://..., or FLASK_SEARCH_BACKEND=whoosh."
        )
    return backend


def _index_after_commit(app: Flask, indexer) -> None:
    """Apply outbox rows right after the transaction that wrote them commits.

    If this fails or the process dies first, the rows stay in the outbox for
    the next commit's sync or `flask index sync`: nothing is lost.
    """
    maker = app.extensions["db_sessionmaker"]

    def after_commit(session) -> None:
        if session.in_nested_transaction():  # a savepoint was released; the real commit comes later
            return
        if not session.info.pop(PENDING_FLAG, False) or not app.config["SEARCH_INDEX_ON_COMMIT"]:
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
