"""Turning a queued message into the bytes that go on the wire.

Why a policy with a long line limit: Python's default policy folds headers at
78 characters and RFC 2047-encodes any word too long to fold, which turns a
long List-Unsubscribe URL into something no mail client can follow. With
max_line_length=998 (RFC 5322's hard limit) the URL stays on one line, intact.
Bodies are quoted-printable, so their own lines never approach that limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses

import idna

from ldnsite.mail.addresses import check_recipient, clean_header_text
from ldnsite.mail.models import OutboundMessage
from ldnsite.mail.tokens import unsubscribe_url

POLICY = SMTP.clone(max_line_length=998)

# Messages a person can stop without losing anything they asked for.
NON_ESSENTIAL = frozenset({"notification", "moderation"})


def ascii_address(address: str) -> str:
    """The address with its domain as an IDNA A-label, as SMTP servers expect it."""
    address = check_recipient(address)
    local, _, domain = address.rpartition("@")
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        pass
    return f"{local}@{domain}"


def sender(config: Mapping) -> Address:
    """MAIL_FROM as an Address, its display name cleaned of anything that could break the header."""
    ((name, addr),) = getaddresses([clean_header_text(str(config["MAIL_FROM"]))]) or (("", ""),)
    addr = ascii_address(addr)
    local, _, domain = addr.rpartition("@")
    return Address(display_name=clean_header_text(name), username=local, domain=domain)


def list_unsubscribe(to_addr: str, config: Mapping) -> str:
    """RFC 2369 List-Unsubscribe value: the one-click URL, plus a mailto: if a mailbox is configured."""
    parts = [f"<{unsubscribe_url(to_addr, config)}>"]
    mailbox = str(config.get("MAIL_UNSUBSCRIBE_MAILBOX") or "").strip()
    if mailbox:
        parts.append(f"<mailto:{check_recipient(mailbox)}?subject=unsubscribe>")
    return ", ".join(parts)


def build(message: OutboundMessage, config: Mapping) -> EmailMessage:
    from_addr = sender(config)
    msg = EmailMessage(policy=POLICY)
    msg["From"] = from_addr
    msg["To"] = ascii_address(message.to_addr)
    msg["Subject"] = clean_header_text(message.subject)
    created = message.created_at.replace(tzinfo=UTC)
    msg["Date"] = format_datetime(created)
    # Stable across retries, so a server that got a message twice can tell.
    msg["Message-ID"] = f"<mail.{message.id}.{int(created.timestamp())}@{from_addr.domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    if message.category in NON_ESSENTIAL:
        msg["List-Unsubscribe"] = list_unsubscribe(message.to_addr, config)
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(message.text_body, subtype="plain", cte="quoted-printable")
    msg.add_alternative(message.html_body, subtype="html", cte="quoted-printable")
    for part in msg.iter_parts():
        del part["MIME-Version"]  # belongs on the top level only
    return msg


def to_bytes(message: OutboundMessage, config: Mapping) -> bytes:
    return build(message, config).as_bytes(policy=POLICY)

