"""Delivering queued messages: claim, send, record; retry with exponential backoff.

Why claim each row with a conditional UPDATE before sending: two processes
(two web workers after their commits, or `flask mail flush` next to a worker)
may look at the same waiting message at once. The UPDATE only succeeds for a
row nobody else holds, so exactly one of them sends it. The claim is a lease
(claimed_until): if a process dies mid-send, the row becomes free again later.

Nothing is lost while the SMTP server is down: a failed attempt leaves the row
waiting with its next attempt pushed back (1 min, 2, 4, ... at most 6 h), and
the next send or `flask mail flush` tries again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from sqlalchemy import and_, delete, or_, select, update

from ldnsite.db import utcnow
from ldnsite.logs import redact
from ldnsite.mail import compose
from ldnsite.mail.addresses import InvalidAddress, address_hash
from ldnsite.mail.compose import MailConfigError
from ldnsite.mail.models import DECOY_PREFIX, OutboundMessage, Suppression
from ldnsite.mail.transports import PermanentFailure, Transport, TransportUnavailable, from_url

log = logging.getLogger(__name__)

QUEUE = OutboundMessage.__table__
SUPPRESSIONS = Suppression.__table__
LEASE = timedelta(minutes=5)
# Sent even to an opted-out address: a reset or opt-in link was asked for by the person just now, and a
# security notice (the address or password of their account changed) is not marketing: it protects them.
ALWAYS_DELIVERED = frozenset({"password_reset", "opt_in", "security"})
# Failures that would hit every message the same way (no connection, TLS, login, the
# outbox folder, a bad sender setting): stop the batch, the rest waits for the next try.
# Anything else is about this one message: it waits, and the batch goes on, so one
# problem message can never hold up the queue behind it.
BATCH_STOPPERS = (TransportUnavailable, MailConfigError)


@dataclass
class Report:
    sent: int = 0
    failed: int = 0  # attempts that failed and will be retried
    refused: int = 0  # permanently refused (5xx, bad address): kept, not retried
    suppressed: int = 0  # the address opted out after the message was queued
    skipped: int = 0  # another process held the row


def _available(now, due_only: bool):
    cond = and_(
        QUEUE.c.sent_at.is_(None),
        QUEUE.c.cancelled_at.is_(None),
        QUEUE.c.failed_at.is_(None),
        or_(QUEUE.c.claimed_until.is_(None), QUEUE.c.claimed_until < now),
    )
    if due_only:
        cond = and_(cond, QUEUE.c.next_attempt_at <= now)
    return cond


def backoff(attempts: int, config) -> timedelta:
    """Delay before the next try after `attempts` failed ones: base * 2^(attempts-1), capped."""
    base = float(config["MAIL_RETRY_BASE_SECONDS"])
    cap = float(config["MAIL_RETRY_MAX_SECONDS"])
    return timedelta(seconds=min(cap, base * 2 ** max(0, min(attempts - 1, 30))))


def waiting_ids(app: Flask, *, due_only: bool = True, ids: Iterable[int] | None = None, limit: int | None = None) -> list[int]:
    stmt = select(QUEUE.c.id).where(_available(utcnow(), due_only)).order_by(QUEUE.c.id)
    if ids is not None:
        stmt = stmt.where(QUEUE.c.id.in_(list(ids)))
    if limit:
        stmt = stmt.limit(limit)
    with app.extensions["db_engine"].connect() as conn:
        return list(conn.execute(stmt).scalars())


def deliver(app: Flask, *, ids: Iterable[int] | None = None, due_only: bool = True, limit: int | None = None) -> Report:
    """Send waiting messages (those named by `ids`, or all), each at most once across processes.

    due_only=False ignores the backoff schedule: an operator's `flask mail flush`
    after fixing the SMTP server should not wait hours for the next slot.
    """
    engine = app.extensions["db_engine"]
    config = app.config
    report = Report()
    transport: Transport | None = None
    try:
        for message_id in waiting_ids(app, due_only=due_only, ids=ids, limit=limit):
            token = uuid.uuid4().hex
            with engine.begin() as conn:
                now = utcnow()
                claimed = (
                    conn.execute(
                        update(QUEUE)
                        .where(QUEUE.c.id == message_id, _available(now, due_only))
                        .values(claimed_until=now + LEASE, claim_token=token)
                    ).rowcount
                    == 1
                )
            if not claimed:
                report.skipped += 1
                continue
            with engine.connect() as conn:
                row = conn.execute(select(QUEUE).where(QUEUE.c.id == message_id)).one()
                opted_out = (
                    row.category not in ALWAYS_DELIVERED
                    and conn.execute(
                        select(SUPPRESSIONS.c.id).where(SUPPRESSIONS.c.address_hash == address_hash(row.to_addr, config))
                    ).first()
                    is not None
                )
            if opted_out:
                _finish(engine, message_id, token, cancelled_at=utcnow(), last_error="address opted out")
                report.suppressed += 1
                continue
            try:
                envelope_to = compose.ascii_address(row.to_addr)
                data = compose.to_bytes(row, config)
                envelope_from = compose.sender(config).addr_spec
                if transport is None:
                    transport = _open_transport(config)
                transport.send(envelope_from, envelope_to, data)
            except (PermanentFailure, InvalidAddress) as exc:
                _finish(
                    engine, message_id, token, failed_at=utcnow(), attempts=row.attempts + 1, last_error=redact(f"refused: {exc}")[:1000]
                )
                report.refused += 1
                log.warning("mail %s refused for good: %s", message_id, exc)
            except Exception as exc:  # noqa: BLE001 - any failure must leave the row waiting, not crash the caller
                attempts = row.attempts + 1
                _finish(
                    engine,
                    message_id,
                    token,
                    attempts=attempts,
                    next_attempt_at=utcnow() + backoff(attempts, config),
                    last_error=redact(f"{type(exc).__name__}: {exc}")[:1000],
                )
                report.failed += 1
                log.warning("mail %s not delivered (attempt %s): %s", message_id, attempts, exc)
                if isinstance(exc, BATCH_STOPPERS):
                    break
            else:
                _finish(engine, message_id, token, sent_at=utcnow(), attempts=row.attempts + 1, last_error=None)
                report.sent += 1
    finally:
        if transport is not None:
            transport.close()
    return report


def _open_transport(config) -> Transport:
    try:
        return from_url(config["MAIL_URL"], timeout=float(config["MAIL_TIMEOUT"]), cafile=config["MAIL_CA_FILE"])
    except ValueError as exc:
        raise MailConfigError(f"MAIL_URL: {exc}") from exc


def purge(app: Flask, *, older_than: timedelta | None = None) -> int:
    """Blank the address, subject and bodies of messages finished longer ago than MAIL_RETENTION_DAYS.

    Why blank rather than delete: the row's dedupe_key must stay, or the same
    event could mail someone a second time; the personal data must not.
    """
    if older_than is None:
        older_than = timedelta(days=float(app.config["MAIL_RETENTION_DAYS"]))
    cutoff = utcnow() - older_than
    finished = or_(QUEUE.c.sent_at < cutoff, QUEUE.c.cancelled_at < cutoff, QUEUE.c.failed_at < cutoff)
    with app.extensions["db_engine"].begin() as conn:
        # Decoys (mailer.queue(decoy=True)) were never meant to be sent and carry nothing: drop them.
        conn.execute(delete(QUEUE).where(QUEUE.c.dedupe_key.startswith(DECOY_PREFIX), QUEUE.c.cancelled_at < cutoff))
        result = conn.execute(
            update(QUEUE).where(finished, QUEUE.c.to_addr != "").values(to_addr="", subject="", text_body="", html_body="", last_error=None)
        )
    return result.rowcount or 0


def _finish(engine, message_id: int, token: str, **values) -> None:
    """Record the outcome and release the lease, only if we still hold it."""
    with engine.begin() as conn:
        conn.execute(
            update(QUEUE)
            .where(QUEUE.c.id == message_id, QUEUE.c.claim_token == token)
            .values(claimed_until=None, claim_token=None, **values)
        )
