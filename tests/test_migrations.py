"""The Alembic migrations build exactly the schema the models describe, on both databases,
and `flask db revision` writes the next one from the models.

Why: tests create tables from the models, but `make run` and deployments use the
migrations; a model change without a migration would pass every other test.
"""

import shutil

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, String, Table, inspect

from ldnsite.db import MIGRATIONS_DIR, Base, alembic_config

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


@pytest.fixture
def migrations_copy(tmp_path):
    """The project's migrations in a temp folder, so a generated revision touches nothing real."""
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture
def a_new_model():
    """A table the models gain, as a developer's change would add one; removed again afterwards."""
    table = Table("test_notes", Base.metadata, Column("id", Integer, primary_key=True), Column("body", String(200), nullable=False))
    yield table
    Base.metadata.remove(table)


def _numbers() -> tuple[str, str]:
    """The head revision's number and the next one, from the files in migrations/versions."""
    head = max(int(p.name[:4]) for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return f"{head:04d}", f"{head + 1:04d}"


def test_db_revision_writes_the_next_numbered_migration_from_the_models(bare_app, migrations_copy, a_new_model):
    runner = bare_app.test_cli_runner()
    result = runner.invoke(args=["db", "revision", "-m", "notes: a table", "--directory", str(migrations_copy)])
    assert result.exit_code == 0, result.output

    head, following = _numbers()
    written = migrations_copy / "versions" / f"{following}_notes_a_table.py"
    assert f"wrote {written}" in result.output
    text = written.read_text()
    assert f'revision = "{following}"' in text and f'down_revision = "{head}"' in text
    assert "op.create_table('test_notes'" in text or 'op.create_table("test_notes"' in text
    assert "op.drop_table('test_notes')" in text or 'op.drop_table("test_notes")' in text

    # The written file is a working migration: the chain now builds the table.
    engine = bare_app.extensions["db_engine"]
    with bare_app.app_context(), engine.begin() as conn:
        cfg = alembic_config(migrations_copy)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert "test_notes" in inspect(engine).get_table_names()


def test_db_revision_with_no_model_change_writes_an_empty_migration(bare_app, migrations_copy):
    result = bare_app.test_cli_runner().invoke(args=["db", "revision", "-m", "nothing", "--directory", str(migrations_copy)])
    assert result.exit_code == 0, result.output
    following = _numbers()[1]
    text = (migrations_copy / "versions" / f"{following}_nothing.py").read_text()
    assert "op." not in text.split("def upgrade", 1)[1]
    assert not (MIGRATIONS_DIR / "versions" / f"{following}_nothing.py").exists()
