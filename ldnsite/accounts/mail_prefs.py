"""The account page's view of the email opt-out list and queue, kept by the mail capability.

Why a seam: the opt-out list stores only keyed hashes of addresses and is
owned by ldnsite.mail.suppression; the account pages only ask "is this
address opted out?", "opt it out" and "opt it back in", and account deletion
asks the mailer to forget the member.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ldnsite.mail import mailer, suppression


def is_opted_out(session: Session, address: str | None) -> bool:
    if not address:
        return False
    return bool(suppression.is_suppressed(session, address))


def opt_back_in(session: Session, address: str) -> bool:
    """Remove a confirmed address from the opt-out list. True if it was on it."""
    return bool(suppression.resubscribe(session, address))


def opt_out(session: Session, address: str) -> None:
    """ "Stop all emails": the address goes on the opt-out list and nothing still queued for it is sent."""
    suppression.suppress(session, address)
    mailer.cancel_to(session, address)


def forget(session: Session, address: str | None, user_id: int) -> None:
    """For a deleted or purged account: mail not yet sent is cancelled, mail sent is blanked and unlinked."""
    if address:
        mailer.forget(session, address, user_id=user_id)
