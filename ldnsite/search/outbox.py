"""Record that a document changed, inside the caller's transaction.

Why an outbox: the index is updated after the commit, and if the process dies
in between, `flask index sync` still finds the row and applies it. Nothing
else in the code base needs to know how the index works.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ldnsite.search.models import SearchOutbox

# Set on the session when it holds outbox rows, so the after-commit hook
# (ldnsite/search/__init__.py) only touches the index for commits that need it.
PENDING_FLAG = "search_outbox_pending"


def enqueue(session: Session, doc_kind: str, doc_id: int | str) -> None:
    """Mark a page, topic or post as changed; the indexer re-reads its current state."""
    if doc_kind not in ("page", "topic", "post"):
        raise ValueError(f"unknown document kind {doc_kind!r}")
    session.add(SearchOutbox(doc_kind=doc_kind, doc_id=str(doc_id)))
    session.info[PENDING_FLAG] = True
