"""Alembic environment: the models' metadata is the target, the URL comes from the app config."""

from alembic import context

from ldnsite import models_registry
from ldnsite.db import Base, make_engine

models_registry.import_all()
config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:  # bare `alembic ...`: alembic.ini names no database on purpose
        raise SystemExit(
            "Run migrations through the app: `flask --app app db upgrade`, `flask --app app db revision -m MESSAGE` (see README)."
        )
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
