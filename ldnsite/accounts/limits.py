"""Rate-limit keys for the account endpoints (Flask-Limiter).

Why these keys: a limit per IP address slows one machine guessing many
accounts; a limit per (submitted email, IP) stops one machine guessing one
account; a limit per submitted email slows many machines guessing one
account. The email is hashed so the limiter's storage never holds addresses.

Why a trusted-device cookie: the per-email limits count anyone's failures,
so on their own they would let a stranger lock the owner out. A browser that
has signed in to the account before (or used a password reset link from its
mailbox) carries a signed cookie naming the account, and the two per-email
limits do not apply to it; the per-IP limit still does. So a stranger can at
worst make the owner use a known browser or reset the password, which always
restores access.
"""

from __future__ import annotations

import hashlib

from flask import current_app, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ldnsite.extensions import limiter, member_or_address_key
from ldnsite.mail.addresses import normalise

# Sign-in: attempts per IP; failures per account from one IP, and per account from anywhere.
LOGIN_PER_IP = "10/minute"
LOGIN_PER_ACCOUNT_AND_IP = "10/hour"
LOGIN_PER_ACCOUNT = "20/hour"
REGISTER_PER_IP = "10/hour"
RESET_PER_IP = "10/hour"
RESET_PER_ACCOUNT = "3/hour"
RESEND_PER_ACCOUNT = "3/hour"
# Password checks on settings pages (password, email and delete forms share one bucket):
# a stolen session must not become a password oracle.
SENSITIVE_CHECK_PER_ACCOUNT = "10/hour"
SENSITIVE_CHECK_SCOPE = "password-check"
DEVICE_COOKIE = "ldn_device"
DEVICE_MAX_AGE = 365 * 24 * 3600
DEVICE_ACCOUNTS = 5  # a shared family computer may know a few accounts


def _email_hash(raw: str | None) -> str:
    """The limit's key for a typed address: one per mailbox, however its case or domain was written."""
    return hashlib.sha256(normalise(raw or "").encode()).hexdigest()


def submitted_email_key() -> str:
    return "email:" + _email_hash(request.form.get("email"))


def submitted_email_and_ip_key() -> str:
    return f"email:{_email_hash(request.form.get('email'))}:ip:{get_remote_address()}"


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="trusted-device")


def _device_accounts() -> list[str]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        value = _device_serializer().loads(raw, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def trusted_device() -> bool:
    """This browser signed in to the submitted account before (or reset its password)."""
    return _email_hash(request.form.get("email"))[:32] in _device_accounts()


def remember_device(response, email: str) -> None:
    """Mark this browser as one the account's owner uses (a short hash of the address only)."""
    known = [h for h in _device_accounts() if h != _email_hash(email)[:32]]
    value = _device_serializer().dumps(([_email_hash(email)[:32], *known])[:DEVICE_ACCOUNTS])
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        path="/account/",
    )


# The password, email and delete forms share one bucket per member.
sensitive_check_limit = limiter.shared_limit(
    SENSITIVE_CHECK_PER_ACCOUNT, SENSITIVE_CHECK_SCOPE, key_func=member_or_address_key, methods=["POST"]
)


def failed_request(response) -> bool:
    """Count a sign-in attempt against the account only when it did not succeed."""
    return response.status_code != 302
