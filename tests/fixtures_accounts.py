"""Shared pytest fixtures for the accounts tests (loaded by conftest.py)."""

from __future__ import annotations

import email
import re
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest

from ldnsite.db import get_session
from tests.conftest import post_form, sign_in

STRONG_PASSWORD = "plum orbit lantern 42"


class AccountMail:
    """The file outbox (MAIL_URL = file:<dir>): one .eml file a delivered message."""

    def __init__(self, app):
        self.dir = Path(app.config["MAIL_URL"].split(":", 1)[1])

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        if not self.dir.exists():
            return []
        found = []
        for path in sorted(self.dir.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
            msg = email.message_from_bytes(path.read_bytes(), policy=default_policy)
            if to is None or to.lower() in str(msg["To"]).lower():
                found.append(msg)
        return found

    @staticmethod
    def text(msg: EmailMessage) -> str:
        part = msg.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def link(self, msg: EmailMessage, path_prefix: str) -> str:
        """The first link in the message's text part whose path starts with path_prefix, as a site path."""
        match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s\"<>]*)", self.text(msg))
        assert match, f"no {path_prefix} link in:\n{self.text(msg)}"
        return match.group(1)


@pytest.fixture
def mails(app) -> AccountMail:
    return AccountMail(app)


@pytest.fixture
def register(client):
    """Submit the registration form like a browser."""

    def submit(email: str = "new@example.com", display_name: str = "New Member", password: str = STRONG_PASSWORD, **extra):
        return post_form(client, "/account/register", {"email": email, "display_name": display_name, "password": password, **extra})

    return submit


@pytest.fixture
def sign_in_as(client):
    """Put a member's id straight into the session (for tests about other things than sign-in)."""

    return lambda user: sign_in(client, user)


@pytest.fixture
def query(app):
    """A database session in its own short application context.

    Why not the shared `db` fixture: it keeps an application context pushed for
    the whole test, and Flask reuses a pushed context for the client's requests,
    so per-request caches in `g` (the signed-in user, the CSRF token, the
    database session) would leak from one request, or one client, to the next.
    """

    @contextmanager
    def open_session():
        with app.app_context():
            yield get_session()

    return open_session
