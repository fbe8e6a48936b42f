"""The PostgreSQL engine's tables: one row per search document, the spelling vocabulary, and build state.

Why a MetaData of their own: these tables exist only on PostgreSQL (migration
0005 creates them there and nothing on SQLite), so they stay out of the
models' metadata that both databases share.

Why the vector is built from our own analyzer's tokens (pg_engine.py) and
not by to_tsvector('english', ...): both engines must match the same terms.
The Whoosh analyzer (schema.py) already folds accents, drops stop words and
question words, stems, and adds the canonical token of a synonym group; its
tokens, with their positions and a weight per field (A title, B keywords,
D body), are the vector, so a query analysed once is right for both engines.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text, func, text
from sqlalchemy.dialects.postgresql import TSVECTOR

from ldnsite.db import NAMING

metadata = MetaData(naming_convention=NAMING)

search_document = Table(
    "search_document",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("key", String(120), nullable=False, unique=True),  # page:<slug>, topic:<id>, post:<id>
    Column("kind", String(8), nullable=False),
    Column("ref", String(100), nullable=False),
    Column("topic_id", Integer, nullable=True, index=True),  # a topic's and its replies' id: one delete drops all
    Column("date", DateTime, nullable=True),
    Column("is_page", Boolean, nullable=False),
    Column("vec", TSVECTOR, nullable=False),
    # The vector's position count (what ts_rank's length normalisation divides by): bounds a row's score (pg_engine.py).
    Column("len", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime, nullable=False, server_default=func.now()),
)
# One GIN index per pass: the few pages are searched without reading the forum's matches, and the other way round.
Index("ix_search_document_vec_page", search_document.c.vec, postgresql_using="gin", postgresql_where=text("is_page"))
Index("ix_search_document_vec_forum", search_document.c.vec, postgresql_using="gin", postgresql_where=text("NOT is_page"))
# Rows by length, so the ranking reads only the rows short enough to reach the top (pg_engine.py).
Index("ix_search_document_len", search_document.c.len, postgresql_where=text("NOT is_page"))

# Plain words (unstemmed) of pages, topic titles and opening posts, for "Did you mean" and prefixes.
search_vocabulary = Table(
    "search_vocabulary",
    metadata,
    Column("word", String(100, collation="C"), primary_key=True),  # bytewise order: prefix ranges use the key
    Column("docs", Integer, nullable=False),  # documents with the word at the last rebuild; new words enter with 1
)

search_state = Table(
    "search_state",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)
