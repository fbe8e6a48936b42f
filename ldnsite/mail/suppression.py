"""The suppression (opt-out) list: who gets no email from the site.

Only keyed hashes are stored (see addresses.py). Every function works in the
caller's session; the caller commits, so an opt-out can share a transaction
with whatever else the caller changes (e.g. the account settings page).
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ldnsite.db import utcnow
from ldnsite.mail.addresses import address_hash
from ldnsite.mail.models import Suppression


def is_suppressed(session: Session, email: str) -> bool:
    """True if the address opted out of all email."""
    return is_hash_suppressed(session, address_hash(email, current_app.config))


def suppress(session: Session, email: str) -> None:
    """Opt the address out. Doing it again changes nothing."""
    suppress_hash(session, address_hash(email, current_app.config))


def resubscribe(session: Session, email: str) -> bool:
    """Opt the address back in (for signed-in members, or after a confirmed opt-in). True if it was opted out."""
    return resubscribe_hash(session, address_hash(email, current_app.config))


def is_hash_suppressed(session: Session, digest: str) -> bool:
    return session.scalar(select(Suppression.id).where(Suppression.address_hash == digest)) is not None


def suppress_hash(session: Session, digest: str) -> None:
    """Insert-or-nothing, so two opt-outs racing for the same address both succeed."""
    dialect = session.get_bind().dialect.name
    values = {"address_hash": digest, "created_at": utcnow()}
    if dialect == "postgresql":
        stmt = pg_insert(Suppression).values(**values).on_conflict_do_nothing(index_elements=["address_hash"])
    elif dialect == "sqlite":
        stmt = sqlite_insert(Suppression).values(**values).on_conflict_do_nothing(index_elements=["address_hash"])
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        if is_hash_suppressed(session, digest):
            return
        session.add(Suppression(**values))
        return
    session.execute(stmt)


def resubscribe_hash(session: Session, digest: str) -> bool:
    result = session.execute(delete(Suppression).where(Suppression.address_hash == digest))
    return bool(result.rowcount)
