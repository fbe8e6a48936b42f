"""PostgreSQL full-text search: search_document, its GIN indexes, the vocabulary, build state

Only on PostgreSQL (ldnsite/search/pg_tables.py describes the tables); on
SQLite this migration does nothing. The `unaccent` and `pg_trgm` extensions
are created when the role may; otherwise quietly skipped (`flask index
status` reports them). The engine itself needs neither: accents are folded by
the site's own analyzer before text reaches PostgreSQL.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EXTENSIONS = ("unaccent", "pg_trgm")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    bind = op.get_bind()
    for name in EXTENSIONS:
        try:
            with bind.begin_nested():
                bind.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {name}")
        except sa.exc.DBAPIError:
            pass  # not allowed for this role (or not installed): reported by `flask index status`
    op.create_table(
        "search_document",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("date", sa.DateTime(), nullable=True),
        sa.Column("is_page", sa.Boolean(), nullable=False),
        sa.Column("vec", TSVECTOR(), nullable=False),
        sa.Column("len", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_search_document"),
        sa.UniqueConstraint("key", name="uq_search_document_key"),
    )
    op.create_index("ix_search_document_topic_id", "search_document", ["topic_id"])
    # One GIN index per pass (pages, forum), so each pass reads only its own matches.
    op.create_index("ix_search_document_vec_page", "search_document", ["vec"], postgresql_using="gin",
                    postgresql_where=sa.text("is_page"))
    op.create_index("ix_search_document_vec_forum", "search_document", ["vec"], postgresql_using="gin",
                    postgresql_where=sa.text("NOT is_page"))
    # Rows by length (the vector's position count): the ranking reads only rows short enough to reach the top.
    op.create_index("ix_search_document_len", "search_document", ["len"], postgresql_where=sa.text("NOT is_page"))
    op.create_table(
        "search_vocabulary",
        sa.Column("word", sa.String(length=100, collation="C"), nullable=False),
        sa.Column("docs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("word", name="pk_search_vocabulary"),
    )
    op.create_table(
        "search_state",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_search_state"),
    )


def downgrade() -> None:
    if not _postgres():
        return
    op.drop_table("search_state")
    op.drop_table("search_vocabulary")
    op.drop_index("ix_search_document_len", table_name="search_document")
    op.drop_index("ix_search_document_vec_forum", table_name="search_document")
    op.drop_index("ix_search_document_vec_page", table_name="search_document")
    op.drop_index("ix_search_document_topic_id", table_name="search_document")
    op.drop_table("search_document")
