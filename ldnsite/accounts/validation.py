"""Rules for email addresses and display names, shared by the web forms and the `users` commands."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnsite.accounts.models import User
from ldnsite.sanitising.lookalike import impersonates_staff, one_line

DISPLAY_NAME_MIN = 2
DISPLAY_NAME_MAX = 40
EMAIL_MAX = 254
DELETED_NAME = "Deleted member"
# Names that would let someone pass as the site or as a removed account.
NAME_TAKEN = "That display name is already taken. Choose another"
RESERVED_NAMES = frozenset({DELETED_NAME.lower(), "moderator", "moderators", "admin", "administrator", "ldn guide"})


class InvalidEmail(ValueError):
    """Raised with a message a person can act on."""


def normalise_email(raw: str) -> str:
    """One spelling per mailbox: IDNA/Unicode-normalised by email-validator, then lower-cased.

    Why lower-case the local part too: nearly every provider treats it
    case-insensitively, and two accounts for "Ann@x" and "ann@x" would only
    confuse the person who owns both. This is the spelling an account keeps
    (an international domain in Unicode); where addresses are compared or
    hashed (the opt-out list, rate-limit keys), mail.addresses.normalise
    gives the one comparison form, the same for either spelling of a domain.
    """
    raw = (raw or "").strip()
    if not raw:
        raise InvalidEmail("Enter your email address")
    if len(raw) > EMAIL_MAX:
        raise InvalidEmail(f"Your email address must be {EMAIL_MAX} characters or fewer")
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as err:
        raise InvalidEmail("Enter an email address in the correct format, like name@example.com") from err
    return result.normalized.lower()


def clean_display_name(raw: str) -> str:
    """NFKC-normalised, invisible characters (bidi overrides, zero-width) removed, and trimmed."""
    return one_line(unicodedata.normalize("NFKC", raw or "")) or ""


def display_name_problem(session: Session, name: str, *, exclude_user_id: int | None = None, staff: bool = False) -> str | None:
    """The message to show for an unacceptable display name, or None. `name` is already cleaned.

    `staff`: an operator creating a moderator or admin account on the command line may give it a staff
    name; a name members choose themselves never may, so no member can pass for the team.
    """
    if not name:
        return "Enter a display name"
    if len(name) < DISPLAY_NAME_MIN:
        return f"Your display name must be at least {DISPLAY_NAME_MIN} characters long"
    if len(name) > DISPLAY_NAME_MAX:
        return f"Your display name must be {DISPLAY_NAME_MAX} characters or fewer"
    if not name.isprintable():
        return "Your display name must only use letters, numbers, spaces and punctuation"
    if "@" in name:
        return "Your display name must not contain @, so it cannot be mistaken for an email address"
    if name.casefold() in RESERVED_NAMES:
        return "That display name is reserved. Choose another"
    if not staff and impersonates_staff(name):
        return (
            "Your display name must not look like a moderator's, the team's or the site's name "
            "(words such as moderator, admin, staff, team, official or LDN Guide). Choose another"
        )
    query = select(User.id).where(User.display_name_key == name.casefold(), User.deleted_at.is_(None))
    if exclude_user_id is not None:
        query = query.where(User.id != exclude_user_id)
    if session.scalar(query.limit(1)) is not None:
        return NAME_TAKEN
    return None


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email))
