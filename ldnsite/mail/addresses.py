"""Email addresses: normalising, keyed hashing and the checks that keep headers safe.

Why a keyed hash (HMAC-SHA256) rather than a plain one: the opt-out list must
answer "is this address opted out?" without ever holding the address, and a
plain SHA-256 of an address can be reversed by hashing a list of known ones.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

import idna

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A bare addr-spec as the site sends to: no display name, no spaces, no brackets or separators.
_ADDR_SPEC = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+$")


def normalise(address: str) -> str:
    """The form an address is compared and hashed in: trimmed, lower-case, IDNA (A-label) domain.

    Why lower-case the local part too: practically every mailbox provider treats
    it case-insensitively, and an opt-out must not be dodged by changing case.
    """
    address = address.strip().lower()
    local, sep, domain = address.rpartition("@")
    if not sep:
        return address
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        pass  # not a valid IDN: hash it as typed, it can receive no mail anyway
    return f"{local}@{domain}"


def hash_key(config: Mapping) -> bytes:
    """The HMAC key: FLASK_MAIL_HASH_KEY if set, otherwise derived from the secret key.

    Why derived and not the secret key itself: a key used for one purpose only.
    """
    explicit = config["MAIL_HASH_KEY"]
    if explicit:
        return str(explicit).encode()
    secret = str(config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"ldnsite.mail.suppression.v1", hashlib.sha256).digest()


def address_hash(address: str, config: Mapping) -> str:
    """Hex HMAC-SHA256 of the normalised address."""
    return hmac.new(hash_key(config), normalise(address).encode("utf-8"), hashlib.sha256).hexdigest()


def clean_header_text(value: str) -> str:
    """Header text with every CR, LF and other control character turned into a space.

    Why: a subject or display name built from user input must never be able to
    end its header line and start another (header injection).
    """
    return " ".join(_CONTROL.sub(" ", value).split())


class InvalidAddress(ValueError):
    """Not one plain address: refused rather than risk a header carrying anything else."""


def check_recipient(address: str) -> str:
    """The bare address, or InvalidAddress if it could smuggle anything into a header."""
    address = address.strip()
    if len(address) > 254 or _CONTROL.search(address) or not _ADDR_SPEC.match(address):
        raise InvalidAddress("not a single plain email address")
    return address
