"""Watched words: phrases moderators watch for in titles, new posts and edits.

Each has an action: hold the post for a moderator, refuse it with a message
the member reads, or publish it and flag it for a moderator to look at.
Matching is on whole words after folding case, spacing and punctuation, the
same as crisis phrases, so "Buy now" also catches "BUY  now!".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnsite.forum.crisis import normalise
from ldnsite.forum.screening import FLAG, HOLD, REFUSE, STRENGTH
from ldnsite.moderation.models import WatchedWord

ACTIONS = (
    (HOLD, "Hold the post for a moderator to approve"),
    (REFUSE, "Refuse the post, with a message to the member"),
    (FLAG, "Publish the post, and flag it for a moderator to look at"),
)
ACTION_LABELS = {HOLD: "Hold for review", REFUSE: "Refuse with a message", FLAG: "Flag for a moderator"}
DEFAULT_REFUSAL = "Your post uses a word or phrase that is not allowed in the forum. Please change it and try again."


@dataclass(frozen=True)
class Match:
    word: WatchedWord

    @property
    def action(self) -> str:
        return self.word.action

    @property
    def note(self) -> str:
        """What the moderator reads in the queue."""
        kind = "phrase" if " " in self.word.phrase else "word"
        return f"Uses the watched {kind} “{self.word.phrase}” ({ACTION_LABELS[self.action].lower()})"

    @property
    def refusal(self) -> str:
        return self.word.message or DEFAULT_REFUSAL


def _contains(normalised: str, key: str) -> bool:
    return re.search(r"(?<![\w'])" + re.escape(key) + r"(?![\w'])", normalised) is not None


def strongest_match(session: Session, *texts: str | None, words: list[WatchedWord] | None = None) -> Match | None:
    """The watched word with the strongest action used in any of the texts, or None."""
    words = list(session.scalars(select(WatchedWord))) if words is None else words
    folded = [normalise(t) for t in texts if t]
    found = [w for w in words if any(_contains(f, w.key) for f in folded)]
    if not found:
        return None
    return Match(max(found, key=lambda w: (STRENGTH.get(w.action, 0), -w.id)))


def newly_used(session: Session, old_texts: tuple[str | None, ...], new_texts: tuple[str | None, ...]) -> Match | None:
    """The strongest watched word the new texts use that the old ones did not: what an edit adds."""
    words = list(session.scalars(select(WatchedWord)))
    old = [normalise(t) for t in old_texts if t]
    added = [w for w in words if not any(_contains(f, w.key) for f in old)]
    return strongest_match(session, *new_texts, words=added)


def screen(session: Session, texts: tuple[str | None, ...], before: tuple[str | None, ...] | None) -> Match | None:
    """The forum's post screen (hooks.POST_SCREENS): for an edit (`before` given), only words it adds count."""
    if before is not None:
        return newly_used(session, before, texts)
    return strongest_match(session, *texts)
