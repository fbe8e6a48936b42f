"""Mail queue and the suppression (opt-out) list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ldnsite.db import Base, utcnow

# The dedupe key of a decoy (mailer.queue(decoy=True)): a row written only to cost the same, never sent.
DECOY_PREFIX = "decoy:"


class OutboundMessage(Base):
    """A message waiting for delivery, or delivered. Written in the causing transaction."""

    __tablename__ = "mail_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The same event never produces two messages: e.g. "reply:<post id>:<user id>".
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    category: Mapped[str] = mapped_column(String(32))  # password_reset | account | opt_in | notification | moderation
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # A delivering process leases the row until claimed_until, so two processes
    # flushing at once never send it twice; an expired lease (a crash) frees it again.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    # Set when the server refused the message for good (5xx); it is kept, not retried.
    failed_at: Mapped[datetime | None] = mapped_column(DateTime)


class Suppression(Base):
    """An opted-out address, stored only as a keyed hash (HMAC-SHA256)."""

    __tablename__ = "mail_suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
