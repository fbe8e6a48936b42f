"""Rate-limit keys for the account endpoints (Flask-Limiter).

Why two keys: a limit per IP address slows one machine guessing many
accounts; a limit per submitted email slows many machines guessing one
account. The email is hashed so the limiter's storage never holds addresses.
"""

from __future__ import annotations

import hashlib

from flask import request
from flask_limiter.util import get_remote_address
from flask_login import current_user

# Sign-in: failures per IP, and failures per account.
LOGIN_PER_IP = "10/minute"
LOGIN_PER_ACCOUNT = "20/hour"
REGISTER_PER_IP = "10/hour"
RESET_PER_IP = "10/hour"
RESET_PER_ACCOUNT = "3/hour"
RESEND_PER_ACCOUNT = "3/hour"
# Password checks on settings pages: a stolen session must not become a password oracle.
SENSITIVE_CHECK_PER_ACCOUNT = "10/hour"


def submitted_email_key() -> str:
    raw = (request.form.get("email") or "").strip().lower()
    return "email:" + hashlib.sha256(raw.encode()).hexdigest()


def current_user_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


def failed_request(response) -> bool:
    """Count a sign-in attempt against the account only when it did not succeed."""
    return response.status_code != 302
