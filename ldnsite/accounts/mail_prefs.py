"""The account page's view of the email opt-out list, kept by the mail capability.

Why a seam: the opt-out list stores only keyed hashes of addresses and is
owned by ldnsite.mail.suppression; the account page only asks "is this
address opted out?" and "opt it back in".
"""

from __future__ import annotations

from sqlalchemy.orm import Session


def is_opted_out(session: Session, address: str | None) -> bool:
    if not address:
        return False
    from ldnsite.mail import suppression

    return bool(suppression.is_suppressed(session, address))


def opt_back_in(session: Session, address: str) -> bool:
    """Remove a confirmed address from the opt-out list. True if it was on it."""
    from ldnsite.mail import suppression

    return bool(suppression.resubscribe(session, address))


def cancel_pending_to(session: Session, address: str | None) -> int:
    """Cancel every message not yet sent to this address (account deletion).

    Why by address rather than dedupe-key prefix: reply notifications are keyed
    by post, so only the address finds all of a member's pending mail.
    """
    if not address:
        return 0
    from sqlalchemy import update

    from ldnsite.db import utcnow
    from ldnsite.mail.models import OutboundMessage

    result = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.to_addr == address, OutboundMessage.sent_at.is_(None), OutboundMessage.cancelled_at.is_(None))
        .values(cancelled_at=utcnow())
    )
    return result.rowcount or 0
