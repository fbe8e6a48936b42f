"""Shared pytest fixtures for the accounts tests (loaded by conftest.py)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from ldnsite.db import get_session
from tests.conftest import post_form, sign_in

STRONG_PASSWORD = "plum orbit lantern 42"


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
