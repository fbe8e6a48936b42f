"""Database seam: one SQLAlchemy engine per app, one session per request.

Why plain SQLAlchemy rather than an extension: the same code must run on
SQLite (the embedded default) and PostgreSQL (scale-out), and a session bound
to the application context, as in Flask's own SQLAlchemy pattern, is all the
site needs. Schema changes go through Alembic (`flask db upgrade`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app, g
from flask.cli import AppGroup
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from werkzeug.routing import IntegerConverter

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Naive UTC, so SQLite and PostgreSQL return the same kind of value."""
    return datetime.now(UTC).replace(tzinfo=None)


def _sqlite_pragmas(busy_timeout_ms: int):
    """WAL, so readers never wait for a writer (nor it for them); a writer waits busy_timeout_ms for another.

    A writer that still cannot get the lock raises OperationalError, which the
    site answers with 503 and Retry-After (security/errors.py), never a 500.
    """

    def apply(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return apply


def make_engine(url: str, busy_timeout_ms: int = 5000, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in every route, capped at the database's largest id.

    Why in the router: an id past the column's range (2^63 on SQLite, 2^31 on
    PostgreSQL's integer) makes the driver raise before any query runs, which
    would be a 500 and a traceback on every route with an id. A URL past the
    range matches no route, so it is a 404 like any other id that does not exist.
    """

    max_id = 2**63 - 1

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", self.max_id)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    max_id = 2**31 - 1 if app.config["DATABASE_URL"].startswith("postgresql") else 2**63 - 1
    app.url_map.converters["int"] = type("DatabaseIdConverter", (DatabaseIdConverter,), {"max_id": max_id})
    engine = make_engine(
        app.config["DATABASE_URL"], busy_timeout_ms=int(app.config["SQLITE_BUSY_TIMEOUT_MS"]), **app.config["DATABASE_ENGINE_OPTIONS"]
    )
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(close_session)
    app.cli.add_command(db_cli)


def engine() -> Engine:
    return current_app.extensions["db_engine"]


def get_session() -> Session:
    """The request's session, created on first use (like flaskr's get_db)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back anything left uncommitted


PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(directory: str | Path = MIGRATIONS_DIR, url: str | None = None):
    """Alembic's settings from alembic.ini, with the migrations folder and the database filled in."""
    from alembic.config import Config

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(directory))
    cfg.set_main_option("sqlalchemy.url", (url or current_app.config["DATABASE_URL"]).replace("%", "%%"))
    return cfg


def next_revision_id(directory: str | Path = MIGRATIONS_DIR) -> str:
    """The next number in the chain (0001, 0002, ...): one more than the highest numbered revision."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(directory))
    numbers = [int(rev.revision) for rev in script.walk_revisions() if rev.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


@click.group("db", cls=AppGroup)
def db_cli() -> None:
    """Database schema commands."""


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision: str) -> None:
    """Bring the schema up to REVISION (default: the newest)."""
    from alembic import command

    cfg = alembic_config()
    with engine().begin() as conn:  # the app's own engine, with its connect options
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    click.echo(f"database at {revision}")


@db_cli.command("current")
def current_command() -> None:
    """Show the schema revision the database is at."""
    from alembic import command

    cfg = alembic_config()
    with engine().connect() as conn:
        cfg.attributes["connection"] = conn
        command.current(cfg)


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the change does, e.g. 'posts: pinned flag'.")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, exists=True),
    default=str(MIGRATIONS_DIR),
    show_default=True,
    help="The migrations folder.",
)
def revision_command(message: str, directory: str) -> None:
    """Write the next numbered migration, filled in from what the models add to the newest one.

    Why against a scratch database: autogenerate compares the models with a
    database at the newest revision, and the developer's own database may be
    behind, ahead on a branch, or hold data; a fresh SQLite file upgraded to
    head is always exactly the newest revision. Read the file it writes: it
    is a draft (renames come out as drop and add, data changes not at all).
    """
    import tempfile

    from alembic import command

    rev_id = next_revision_id(directory)
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'head.db'}"
        cfg = alembic_config(directory, url)
        scratch_engine = make_engine(url)
        try:
            with scratch_engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                written = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            scratch_engine.dispose()
    scripts = written if isinstance(written, list) else [written]
    for script in scripts:
        click.echo(f"wrote {script.path}")
