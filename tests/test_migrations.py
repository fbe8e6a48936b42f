"""The Alembic migrations build exactly the schema the models describe, on both databases.

Why: tests create tables from the models, but `make run` and deployments use the
migrations; a model change without a migration would pass every other test.
"""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ldnsite.db import Base, alembic_config

pytestmark = pytest.mark.both_databases


@pytest.fixture
def bare_app(app_config):
    """An app whose database is empty: no create_all, only what the migrations make."""
    from ldnsite import create_app

    return create_app(app_config)


def test_upgrade_from_empty_matches_models(bare_app):
    engine = bare_app.extensions["db_engine"]
    with bare_app.app_context(), engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    from ldnsite.search import pg_tables

    # The PostgreSQL search tables exist only there (0005 does nothing on SQLite).
    metadata = [Base.metadata, pg_tables.metadata] if engine.dialect.name == "postgresql" else Base.metadata
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_db_upgrade_command_is_idempotent(bare_app):
    runner = bare_app.test_cli_runner()
    first = runner.invoke(args=["db", "upgrade"])
    second = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
