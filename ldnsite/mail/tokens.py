"""Signed tokens in email links.

Why they carry the address hash and not the address: links end up in server
logs and browser histories, and the hash is all the opt-out list needs.
The unsubscribe token never expires (RFC 8058 asks that the link keep working);
the opt-in token does, so an old confirmation email cannot re-enable mail later.
"""

from __future__ import annotations

from collections.abc import Mapping

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from ldnsite.mail.addresses import address_hash

UNSUBSCRIBE_SALT = "ldnsite.mail.unsubscribe"
OPT_IN_SALT = "ldnsite.mail.opt-in"
OPT_IN_MAX_AGE = 7 * 24 * 3600


def unsubscribe_token(address: str, config: Mapping) -> str:
    return URLSafeSerializer(config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).dumps(address_hash(address, config))


def unsubscribe_url(address: str, config: Mapping) -> str:
    return f"{config['SITE_URL']}/unsubscribe/{unsubscribe_token(address, config)}"


def hash_from_unsubscribe_token(token: str, config: Mapping) -> str | None:
    """The address hash the token names, or None if it was not signed by this site."""
    try:
        value = URLSafeSerializer(config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        return None
    return value if _is_hash(value) else None


def opt_in_token(address: str, config: Mapping) -> str:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=OPT_IN_SALT).dumps(address_hash(address, config))


def hash_from_opt_in_token(token: str, config: Mapping, max_age: int = OPT_IN_MAX_AGE) -> tuple[str | None, bool]:
    """(address hash, expired). The hash is None for a tampered or expired token."""
    try:
        value = URLSafeTimedSerializer(config["SECRET_KEY"], salt=OPT_IN_SALT).loads(token, max_age=max_age)
    except SignatureExpired:
        return None, True
    except BadSignature:
        return None, False
    return (value if _is_hash(value) else None), False


def _is_hash(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
