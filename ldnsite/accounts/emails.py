"""The account emails: verification, password reset, "you already have an account", and email changes.

All go through the one mailer, so the opt-out list and the mail queue's
retries apply. Each message is added to the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ldnsite.accounts import tokens
from ldnsite.accounts.models import User
from ldnsite.db import utcnow
from ldnsite.mail import mailer
from ldnsite.mail.models import OutboundMessage


def _external(endpoint: str, **values) -> str:
    """Links in emails use the public SITE_URL, not whatever host the request came in on."""
    return current_app.config["SITE_URL"] + url_for(endpoint, **values)


def _next_serial(session: Session, prefix: str) -> int:
    """1 + the number of messages already queued under this prefix, for a fresh dedupe key."""
    count = session.scalar(
        select(func.count()).select_from(OutboundMessage).where(OutboundMessage.dedupe_key.startswith(prefix, autoescape=True))
    )
    return (count or 0) + 1


def _queue_numbered(
    session: Session,
    kind: str,
    user: User,
    *,
    to: str,
    subject: str,
    template: str,
    context: dict,
    category: str = "account",
    decoy: bool = False,
):
    """Queue a message the member may ask for again: each request gets its own dedupe key (kind:user:n).

    A decoy (user id 0, no account) is numbered the same way, so it runs the same queries; the
    mailer files it under a decoy key of its own.
    """
    prefix = f"{kind}:{user.id}:"
    return mailer.queue(
        session,
        to=to,
        subject=subject,
        template=template,
        context=context,
        category=category,
        dedupe_key=f"{prefix}{_next_serial(session, prefix)}",
        decoy=decoy,
    )


def send_verification(session: Session, user: User):
    return _queue_numbered(
        session,
        "verify",
        user,
        to=user.email,
        subject="Confirm your email address",
        template="accounts_verify",
        context={
            "display_name": user.display_name,
            "verify_url": _external("accounts.verify", token=tokens.make_verify_token(user)),
            "hours": tokens.VERIFY_MAX_AGE // 3600,
        },
    )


def send_already_registered(session: Session, user: User, now: datetime | None = None):
    """Tell the owner someone tried to register their address, at most once an hour.

    Why once an hour (the dedupe key holds the hour): the register form must
    not become a way to flood someone's inbox.
    """
    hour = (now or utcnow()).strftime("%Y%m%d%H")
    return mailer.queue(
        session,
        to=user.email,
        subject="Someone tried to register with your email address",
        template="accounts_exists",
        context={
            "display_name": user.display_name,
            "login_url": _external("accounts.login"),
            "reset_url": _external("accounts.reset_request"),
        },
        category="account",
        dedupe_key=f"exists:{user.id}:{hour}",
    )


def send_password_reset(session: Session, user: User | None, address: str | None = None):
    """Delivered even to an opted-out address: the person asked for it themselves.

    With no usable account (user None), the same work is done for a decoy that is never
    sent, so the reset form's timing does not reveal which addresses are registered.
    """
    decoy = user is None
    if user is None:
        user = User(id=0, email=address or "", display_name="", password_hash="", session_version=0)
    return _queue_numbered(
        session,
        "reset",
        user,
        to=user.email,
        decoy=decoy,
        subject="Reset your password",
        template="accounts_reset",
        context={
            "display_name": user.display_name,
            "reset_url": _external("accounts.reset_password", token=tokens.make_reset_token(user)),
            "minutes": tokens.RESET_MAX_AGE // 60,
        },
        category="password_reset",
    )


def send_email_change(session: Session, user: User, new_email: str):
    """The link that finishes an address change goes to the new address: it proves the mailbox is theirs."""
    confirm_url = _external("accounts.confirm_email_change", token=tokens.make_email_change_token(user, new_email))
    return _queue_numbered(
        session,
        "email-change",
        user,
        to=new_email,
        subject="Confirm your new email address",
        template="accounts_email_change",
        context={
            "display_name": user.display_name,
            "new_email": new_email,
            "hours": tokens.VERIFY_MAX_AGE // 3600,
            "confirm_url": confirm_url,
        },
    )


def send_email_changed(session: Session, user: User, old_email: str):
    """Tell the old address, so a change made with a stolen password does not go unnoticed."""
    return _queue_numbered(
        session,
        "email-changed",
        user,
        to=old_email,
        subject="Your email address was changed",
        template="accounts_email_changed",
        context={"display_name": user.display_name, "new_email": user.email, "reset_url": _external("accounts.reset_request")},
        category="security",  # sent even if the address opted out: it is how an owner learns of a takeover
    )


def send_password_changed(session: Session, user: User):
    """Tell the owner their password was reset, so a reset they did not make does not go unnoticed."""
    return _queue_numbered(
        session,
        "password-changed",
        user,
        to=user.email,
        subject="Your password was changed",
        template="accounts_password_changed",
        context={"display_name": user.display_name, "reset_url": _external("accounts.reset_request")},
        category="security",
    )
