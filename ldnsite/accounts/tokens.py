"""Signed, expiring links for email verification, password reset and email address changes.

Why signed tokens rather than rows in a table: nothing to store or clean up,
and a token is bound to the state it was issued for. A reset token carries a
fingerprint of the password hash and session version, so it stops working the
moment it is used (or the password changes any other way). An email change
token carries the old and the new address and the same fingerprint: it stops
working once the address has changed, or the password has.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ldnsite.accounts.models import User

VERIFY_MAX_AGE = 48 * 3600
RESET_MAX_AGE = 3600


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"accounts.{purpose}")


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.password_hash}:{user.session_version}".encode()).hexdigest()[:16]


def make_verify_token(user: User) -> str:
    return _serializer("verify").dumps({"uid": user.id, "email": user.email})


def read_verify_token(token: str) -> dict | None:
    """The payload of a valid token under 48 hours old, or None."""
    try:
        data = _serializer("verify").loads(token, max_age=VERIFY_MAX_AGE)
    except BadSignature:  # also covers SignatureExpired
        return None
    return data if isinstance(data, dict) and {"uid", "email"} <= data.keys() else None


def make_reset_token(user: User) -> str:
    return _serializer("reset").dumps({"uid": user.id, "fp": _fingerprint(user)})


def reset_token_user_id(token: str) -> tuple[int, str] | None:
    """(user id, fingerprint) from a valid token under an hour old, or None."""
    try:
        data = _serializer("reset").loads(token, max_age=RESET_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("uid"), int) or not isinstance(data.get("fp"), str):
        return None
    return data["uid"], data["fp"]


def reset_token_matches(user: User, fingerprint: str) -> bool:
    """False once the password or session version has changed since the token was made."""
    return bool(user.password_hash) and hmac.compare_digest(_fingerprint(user), fingerprint)


def make_email_change_token(user: User, new_email: str) -> str:
    return _serializer("email_change").dumps({"uid": user.id, "old": user.email, "new": new_email, "fp": _fingerprint(user)})


def read_email_change_token(token: str) -> dict | None:
    """{uid, old, new, fp} from a valid token under 48 hours old, or None."""
    try:
        data = _serializer("email_change").loads(token, max_age=VERIFY_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
        return None
    if not all(isinstance(data.get(k), str) for k in ("old", "new", "fp")):
        return None
    return data


def email_change_token_matches(user: User, data: dict) -> bool:
    """False once the address or the password has changed since the link was sent."""
    return user.email == data["old"] and reset_token_matches(user, data["fp"])
