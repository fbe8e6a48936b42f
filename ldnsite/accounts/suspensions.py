"""Who is suspended right now. The forum asks this before every post or report; moderation, when it suspends.

Why a query rather than a flag on the user: a suspension ends by itself when
its period runs out, and lifting one keeps the record for the member's history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ldnsite.accounts.models import Suspension
from ldnsite.db import utcnow


def active_condition(now: datetime | None = None):
    """SQL condition for a suspension in force: not lifted and not yet ended."""
    now = now or utcnow()
    return Suspension.lifted_at.is_(None) & or_(Suspension.ends_at.is_(None), Suspension.ends_at > now)


def ending_last(rows) -> Suspension | None:
    """Of several suspensions in force, the one that decides: the one ending last (an indefinite one first)."""
    rows = list(rows)
    if not rows:
        return None
    return max(rows, key=lambda s: (s.ends_at is None, s.ends_at or datetime.min, s.id))


def active_suspension(session: Session, user_id: int) -> Suspension | None:
    """The member's suspension in force, the one ending last. The forum, the moderation pages and the
    notice a suspended member sees all ask this one function, so they always agree."""
    return ending_last(session.scalars(select(Suspension).where(Suspension.user_id == user_id, active_condition())))


def is_suspended(session: Session, user_id: int) -> bool:
    return active_suspension(session, user_id) is not None
