"""Password rules and hashing, following NIST SP 800-63B.

Why these rules: length and a check against common passwords stop the guesses
attackers try first; composition rules ("one digit, one symbol") only push
people to predictable patterns, so there are none. Hashes are werkzeug's
scrypt, so a stolen database does not give the passwords away.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 8
MAX_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The list is read once per process; entries are compared case-insensitively."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    return password.lower() in common_passwords()


def password_problem(password: str, *, email: str | None = None, display_name: str | None = None) -> str | None:
    """The message to show for an unacceptable password, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Your password must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"Your password must be {MAX_LENGTH} characters or fewer"
    if is_common(password):
        return "That password is too common and easy to guess. Choose a longer or less usual one, for example three random words"
    lowered = password.lower()
    if (email and lowered in (email.lower(), email.split("@", 1)[0].lower())) or (display_name and lowered == display_name.lower()):
        return "Your password must not be your email address or display name"
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


@cache
def _dummy_hash() -> str:
    return hash_password("not a real password, only used to spend the same time")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password, spending the same work when there is no account.

    Why: if an unknown email answered faster than a wrong password, the
    response time would tell an attacker which addresses are registered.
    """
    if not password_hash:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)
