"""Forgotten password: same answer for any address, a one-hour single-use link, other sessions ended."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner

from ldnsite.accounts import tokens
from ldnsite.accounts.models import User
from tests.conftest import csrf_from, post_form

pytestmark = pytest.mark.both_databases

OLD = "correct horse battery"
NEW = "violet canyon sparrow"


def request_reset(client, email):
    return post_form(client, "/account/reset", {"email": email})


def choose(client, link, password):
    return post_form(client, link, {"new_password": password})


def test_reset_request_answers_the_same_for_known_and_unknown_addresses(client, make_user, outbox):
    make_user()
    known = request_reset(client, "Member@example.com")
    unknown = request_reset(client, "stranger@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert outbox.messages(to="stranger@example.com") == []
    [mail] = outbox.messages(to="member@example.com")
    assert mail["Subject"] == "Reset your password"


def test_reset_request_checks_the_address_format(client, outbox):
    response = request_reset(client, "not an address")
    assert response.status_code == 422
    assert '<a href="#email">' in response.get_data(as_text=True)
    assert outbox.messages() == []


def test_reset_sets_a_new_password_once_and_ends_other_sessions(app, client, query, make_user, outbox, auth):
    user = make_user()
    other_device = app.test_client()
    Auth = type(auth)
    Auth(other_device).login()
    assert other_device.get("/account/settings").status_code == 200

    request_reset(client, "member@example.com")
    link = outbox.link(outbox.messages(to="member@example.com")[0], "/account/reset/")
    form = client.get(link)
    assert form.status_code == 200
    assert 'autocomplete="new-password"' in form.get_data(as_text=True)

    response = choose(client, link, NEW)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/login")
    with query() as db:
        assert db.get(User, user.id).session_version == 2

    assert other_device.get("/account/settings").status_code == 302  # signed out there
    assert auth.login("member@example.com", OLD).status_code == 422
    assert auth.login("member@example.com", NEW).status_code == 302

    used = client.get(link)
    assert used.status_code == 400
    assert "expired or is not valid" in used.get_data(as_text=True)


def test_reset_refuses_a_common_password_and_keeps_the_old_one(client, query, make_user, outbox, auth):
    user = make_user()
    request_reset(client, "member@example.com")
    link = outbox.link(outbox.messages(to="member@example.com")[0], "/account/reset/")
    response = choose(client, link, "sunshine123")
    assert response.status_code == 422
    assert "too common" in response.get_data(as_text=True)
    with query() as db:
        assert db.get(User, user.id).session_version == 1
    assert auth.login("member@example.com", OLD).status_code == 302


def test_reset_link_expires_after_an_hour(app, client, make_user, monkeypatch):
    user = make_user()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3660)
    with app.test_request_context():
        old = tokens.make_reset_token(user)
    monkeypatch.undo()
    assert client.get(f"/account/reset/{old}").status_code == 400
    page = client.get("/account/login").get_data(as_text=True)
    assert client.post(f"/account/reset/{old}", data={"csrf_token": csrf_from(page), "new_password": NEW}).status_code == 400


def test_reset_link_is_void_after_a_password_change(app, client, query, make_user, outbox):
    user = make_user()
    request_reset(client, "member@example.com")
    link = outbox.link(outbox.messages(to="member@example.com")[0], "/account/reset/")
    from ldnsite.accounts.passwords import hash_password

    with query() as db:
        db.get(User, user.id).password_hash = hash_password("changed in the meantime")
        db.commit()
    assert client.get(link).status_code == 400


def test_deleted_accounts_get_no_reset_mail(client, query, make_user, outbox):
    user = make_user()
    from ldnsite.db import utcnow

    with query() as db:
        db.get(User, user.id).deleted_at = utcnow()
        db.commit()
    assert request_reset(client, "member@example.com").status_code == 302
    assert outbox.messages() == []
