"""Turning a queued message into the bytes that go on the wire.

Why a policy with a long line limit: Python's default policy folds headers at
78 characters and RFC 2047-encodes any word too long to fold, which turns a
long List-Unsubscribe URL into something no mail client can follow. With
max_line_length=998 (RFC 5322's hard limit) the URL stays on one line, intact.
Bodies are quoted-printable, so their own lines never approach that limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

import idna

from ldnsite.mail.addresses import InvalidAddress, check_recipient, clean_header_text
from ldnsite.mail.models import OutboundMessage
from ldnsite.mail.tokens import unsubscribe_url

POLICY = SMTP.clone(max_line_length=998)
_NAME_ADDR = re.compile(r"^(.*)<([^<>]*)>$")

# Messages a person can stop without losing anything they asked for.
NON_ESSENTIAL = frozenset({"notification", "moderation"})


def ascii_address(address: str) -> str:
    """The address with its domain as an IDNA A-label, as SMTP servers expect it."""
    address = check_recipient(address)
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        raise InvalidAddress("a non-ASCII mailbox name needs SMTPUTF8, which the site does not use")
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        pass
    return f"{local}@{domain}"


class MailConfigError(RuntimeError):
    """MAIL_FROM or MAIL_UNSUBSCRIBE_MAILBOX is unusable: an operator must fix the configuration."""


def sender(config: Mapping) -> Address:
    """MAIL_FROM ("Name <addr>" or "addr") as an Address; the display name cannot break the header.

    Why not email.utils.parseaddr: on a malformed value it guesses, and a guess
    about who the mail is from is worse than refusing to send until it is fixed.
    """
    value = clean_header_text(str(config["MAIL_FROM"]))
    match = _NAME_ADDR.match(value)
    name, addr = (match.group(1), match.group(2)) if match else ("", value)
    try:
        addr = ascii_address(addr)
    except InvalidAddress as exc:
        raise MailConfigError(f"MAIL_FROM is not a usable address: {exc}") from exc
    local, _, domain = addr.rpartition("@")
    return Address(display_name=name.strip().strip('"').strip(), username=local, domain=domain)


def list_unsubscribe(to_addr: str, config: Mapping) -> str:
    """RFC 2369 List-Unsubscribe value: the one-click URL, plus a mailto: if a mailbox is configured."""
    parts = [f"<{unsubscribe_url(to_addr, config)}>"]
    mailbox = str(config["MAIL_UNSUBSCRIBE_MAILBOX"] or "").strip()
    if mailbox:
        try:
            parts.append(f"<mailto:{check_recipient(mailbox)}?subject=unsubscribe>")
        except InvalidAddress as exc:
            raise MailConfigError(f"MAIL_UNSUBSCRIBE_MAILBOX is not a usable address: {exc}") from exc
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
