"""The one mailer: every email the site sends is queued here.

Why queue in the caller's transaction and deliver after its commit: the
message exists exactly when the event that caused it does (a rolled-back
reply mails nobody), and nothing is sent for a change that never happened.
After a commit made while serving a request, the process's background worker
(worker.py) is woken to deliver, so no request waits on the SMTP server;
commits made by a command (`flask users ...`) deliver right after the commit
instead. MAIL_DELIVERY="inline" delivers in the committing thread, as the
tests do; MAIL_DELIVER_ON_COMMIT=false leaves everything to `flask mail flush`.
Whatever fails stays queued for the next pass of the worker or `flask mail flush`.

Categories:
- password_reset  delivered even to opted-out addresses (the person asked for it)
- account         verification and other account mail
- opt_in          the double opt-in confirmation (sent only to opted-out addresses, on request)
- security        notices that an account's address or password changed: delivered even to opted-out
                  addresses, since they are how an owner learns of a takeover
- notification    reply notifications: non-essential, carries List-Unsubscribe
- moderation      notices to authors: non-essential, carries List-Unsubscribe
"""

from __future__ import annotations

import logging
import uuid

from flask import Flask, current_app, has_request_context, render_template
from markupsafe import escape
from sqlalchemy import String, cast, event, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ldnsite.db import utcnow
from ldnsite.mail import worker
from ldnsite.mail.addresses import check_recipient, clean_header_text
from ldnsite.mail.compose import NON_ESSENTIAL
from ldnsite.mail.delivery import ALWAYS_DELIVERED, deliver
from ldnsite.mail.models import DECOY_PREFIX, OutboundMessage
from ldnsite.mail.suppression import is_suppressed
from ldnsite.mail.tokens import unsubscribe_url

log = logging.getLogger(__name__)

CATEGORIES = frozenset({"password_reset", "account", "opt_in", "security", "notification", "moderation"})
PENDING = "ldnsite.mail.pending"  # session.info key: ids queued in the open transaction
AFTER_COMMIT_BATCH = 20  # older due retries also sent after a commit, at most this many


def queue(
    session: Session, *, to: str, subject: str, template: str, context: dict, category: str, dedupe_key: str, decoy: bool = False
) -> OutboundMessage | None:
    """Queue one email in the caller's transaction; it is delivered after the caller commits.

    Returns None when nothing was queued: the address opted out (unless the
    category is password_reset), or a message with this dedupe_key exists already.
    Raises ValueError for an unknown category or an address that is not one plain address.

    decoy=True does all the same work (the same queries, the same rendering, the
    same row written and the same wake-up after commit) but writes the row
    already cancelled and blank, under a fresh "decoy:" key instead of
    dedupe_key, so it is never sent and never stands in for a real message.
    Why: a form that mails only known addresses (password reset, opt-in) must
    cost the same for an unknown one, or its response time tells who is
    registered or opted out.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown mail category {category!r}")
    if not dedupe_key or len(dedupe_key) > 200:
        raise ValueError("dedupe_key must be 1 to 200 characters")
    if decoy:
        dedupe_key = f"{DECOY_PREFIX}{uuid.uuid4().hex}"
    to = check_recipient(to)
    if category not in ALWAYS_DELIVERED and is_suppressed(session, to):
        return None
    if session.scalar(select(OutboundMessage.id).where(OutboundMessage.dedupe_key == dedupe_key)) is not None:
        return None
    text_body, html_body = render(template, context, to=to, category=category)
    subject = clean_header_text(subject)[:200]
    if decoy:
        to = subject = text_body = html_body = ""
    message = OutboundMessage(
        dedupe_key=dedupe_key,
        category=category,
        to_addr=to,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        attempts=0,
        created_at=utcnow(),
        next_attempt_at=utcnow(),
        cancelled_at=utcnow() if decoy else None,
    )
    if session.get_bind().dialect.name == "postgresql":
        # A savepoint, so a concurrent transaction that queued the same event
        # first costs us this message, not the caller's whole transaction.
        try:
            with session.begin_nested():
                session.add(message)
        except IntegrityError:
            return None
    else:
        # SQLite serialises writers, and the caller has normally written already,
        # so the check above cannot race; pysqlite's SAVEPOINT would not nest safely.
        session.add(message)
        session.flush()
    session.info.setdefault(PENDING, []).append(message.id)
    return message


def cancel(session: Session, dedupe_key_prefix: str) -> int:
    """Cancel not-yet-sent messages whose dedupe key starts with the prefix. Returns how many.

    In the caller's transaction: e.g. removing a post cancels its reply notifications.
    """
    if not dedupe_key_prefix:
        raise ValueError("an empty prefix would cancel every message")
    return _cancel_unsent(session, OutboundMessage.dedupe_key.startswith(dedupe_key_prefix, autoescape=True))


def cancel_to(session: Session, address: str | None) -> int:
    """Cancel every message not yet sent to the address (it has just opted out). Returns how many."""
    return _cancel_unsent(session, _to_address(address)) if address else 0


def _to_address(address: str):
    """Messages to the address, whatever the case it was queued in."""
    return func.lower(OutboundMessage.to_addr) == address.strip().lower()


def _cancel_unsent(session: Session, condition) -> int:
    result = session.execute(
        update(OutboundMessage)
        .where(condition, OutboundMessage.sent_at.is_(None), OutboundMessage.cancelled_at.is_(None))
        .values(cancelled_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def forget(session: Session, email: str, user_id: int | None = None) -> int:
    """Cancel everything not yet sent to the address and blank every message to it. Returns how many.

    For account deletion: the queue must not keep a deleted member's address or
    mail, nor a dedupe key that names their account (e.g. "reset:<user id>:1"),
    so nothing in the queue links back to them. Each such key becomes
    "forgotten:<row id>": still unique, and the address is gone, so no event
    can mail it again. With user_id, account mail sent to earlier addresses
    (an address change) is found by its key and blanked as well.
    """
    to_it = _to_address(email)
    if user_id is not None:
        keys = [
            OutboundMessage.dedupe_key.like(f"{kind}:{user_id}:%")
            for kind in ("verify", "reset", "exists", "email-change", "email-changed", "password-changed")
        ]
        keys.append(OutboundMessage.dedupe_key.like(f"reply:%:{user_id}"))
        to_it = or_(to_it, *keys)
    _cancel_unsent(session, to_it)
    result = session.execute(
        update(OutboundMessage)
        .where(to_it)
        .values(
            to_addr="",
            subject="",
            text_body="",
            html_body="",
            last_error=None,
            dedupe_key=literal("forgotten:").concat(cast(OutboundMessage.id, String)),
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def render(template: str, context: dict, *, to: str, category: str) -> tuple[str, str]:
    """Text and HTML bodies from templates/mail/<template>.txt and .html.

    Each template gets `context` plus site_url, site_name, unsubscribe_url and
    opt_out_url. A non-essential message always shows its unsubscribe link:
    if a template leaves it out, the mail footer is added.
    """
    config = current_app.config
    unsub = unsubscribe_url(to, config)
    ctx = {
        **context,
        "site_url": config["SITE_URL"],
        "site_name": config["SITE_NAME"],
        "unsubscribe_url": unsub,
        "opt_out_url": f"{config['SITE_URL']}/opt-out",
    }
    text = render_template(f"mail/{template}.txt", **ctx)
    html = render_template(f"mail/{template}.html", **ctx)
    if category in NON_ESSENTIAL:
        if unsub not in text:
            text = text.rstrip("\n") + "\n\n" + render_template("mail/_footer.txt", **ctx)
        if str(escape(unsub)) not in html:
            footer = render_template("mail/_footer.html", **ctx)
            head, sep, tail = html.rpartition("</body>")
            html = f"{head}{footer}{sep}{tail}" if sep else f"{html}{footer}"
    return text, html


def init_app(app: Flask) -> None:
    """Deliver what a transaction queued right after it commits, on every session of this app."""
    maker = app.extensions["db_sessionmaker"]
    worker.init_app(app)

    @event.listens_for(maker, "after_commit")
    def _deliver_after_commit(session: Session) -> None:
        if session.in_nested_transaction():  # a savepoint was released; the real commit comes later
            return
        ids = session.info.pop(PENDING, None)
        if not ids or not app.config["MAIL_DELIVER_ON_COMMIT"]:
            return
        if app.config["MAIL_DELIVERY"] == "worker" and has_request_context():
            worker.get(app).kick()
            return
        try:
            deliver(app, ids=ids)
            deliver(app, due_only=True, limit=AFTER_COMMIT_BATCH)  # earlier failures whose retry is due
        except Exception:  # the caller's commit succeeded; mail waits for the next try
            log.exception("mail delivery after commit failed; messages stay queued")

    @event.listens_for(maker, "after_soft_rollback")
    def _forget_rolled_back(session: Session, previous_transaction) -> None:
        if previous_transaction.parent is None and not previous_transaction.nested:
            session.info.pop(PENDING, None)
