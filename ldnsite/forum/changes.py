"""Telling higher capabilities that a topic or post changed, inside the caller's transaction.

Why a hook and not a call into search: search sits above the forum and
registers for hooks.FORUM_CHANGED (it writes an outbox row that its indexer
applies after the commit); the forum only says what changed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ldnsite import hooks


def changed(session: Session, kind: str, ident: int) -> None:
    """A topic ("topic") or post ("post") was created or changed in this session's transaction."""
    for fn in hooks.registered(hooks.FORUM_CHANGED):
        fn(session, kind, ident)
