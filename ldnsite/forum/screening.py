"""Screening a new post or an edit before it is stored: hold it, refuse it, or publish and flag it.

Why a hook: the rules (moderators' watched words) belong to moderation, which
sits above the forum; moderation registers a screen (hooks.POST_SCREENS) and
the forum applies whatever it answers, the strongest answer winning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from ldnsite import hooks

HOLD, REFUSE, FLAG = "hold", "refuse", "flag"
# When several screens answer, the strongest action applies.
STRENGTH = {REFUSE: 3, HOLD: 2, FLAG: 1}


class Screening(Protocol):
    action: str  # HOLD | REFUSE | FLAG
    note: str  # what the moderator reads in the queue
    refusal: str  # what the member reads when the post is refused


def screen(session: Session, texts: Sequence[str | None], before: Sequence[str | None] | None = None) -> Screening | None:
    """The strongest answer of the registered screens for these texts; for an edit, `before` holds the old texts
    and only what the edit adds counts."""
    answers = [a for fn in hooks.registered(hooks.POST_SCREENS) if (a := fn(session, tuple(texts), before)) is not None]
    return max(answers, key=lambda a: STRENGTH.get(a.action, 0), default=None)
