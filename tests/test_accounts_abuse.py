"""A stranger cannot lock an owner out; sign-out ends the session on the server; one password-guess bucket."""

from __future__ import annotations

import pytest

from tests.conftest import Auth, csrf_from, post_form

pytestmark = pytest.mark.both_databases

RIGHT = "correct horse battery"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def attempt(client, email: str, password: str, ip: str):
    env = {"REMOTE_ADDR": ip}
    page = client.get("/account/login", environ_base=env).get_data(as_text=True)
    return client.post("/account/login", environ_base=env, data={"csrf_token": csrf_from(page), "email": email, "password": password})


def test_strangers_failures_do_not_lock_the_owner_out_of_a_browser_they_used_before(app, make_user):
    make_user()
    owner = app.test_client()
    assert attempt(owner, "member@example.com", RIGHT, "192.0.2.10").status_code == 302
    owner.post("/account/logout", data={"csrf_token": csrf_from(owner.get("/").get_data(as_text=True))})

    stranger = app.test_client()
    for i in range(30):  # from many addresses: past the per-account limit
        attempt(stranger, "member@example.com", "wrong password", f"198.51.100.{i + 1}")
    assert attempt(stranger, "member@example.com", RIGHT, "198.51.100.99").status_code == 429  # a new browser waits
    assert attempt(owner, "member@example.com", RIGHT, "192.0.2.10").status_code == 302


def test_one_machine_guessing_one_account_is_stopped(app, make_user):
    make_user()
    stranger = app.test_client()
    statuses = [attempt(stranger, "member@example.com", "wrong", "203.0.113.7").status_code for _ in range(10)]
    assert statuses == [422] * 10
    assert attempt(stranger, "member@example.com", RIGHT, "203.0.113.7").status_code == 429


def test_a_password_reset_always_restores_access(app, make_user, outbox):
    make_user()
    stranger = app.test_client()
    for i in range(30):
        attempt(stranger, "member@example.com", "wrong password", f"198.51.100.{i + 1}")
    owner = app.test_client()  # a new browser: blocked until the owner proves the mailbox
    assert attempt(owner, "member@example.com", RIGHT, "192.0.2.20").status_code == 429
    post_form(owner, "/account/reset", {"email": "member@example.com"}, environ_base={"REMOTE_ADDR": "192.0.2.20"})
    link = outbox.link(outbox.messages(to="member@example.com")[-1], "/account/reset/")
    assert post_form(owner, link, {"new_password": "violet canyon sparrow"}, environ_base={"REMOTE_ADDR": "192.0.2.20"}).status_code == 302
    assert attempt(owner, "member@example.com", "violet canyon sparrow", "192.0.2.20").status_code == 302


def test_a_copied_session_cookie_stops_working_after_sign_out(app, make_user):
    make_user()
    browser = app.test_client()
    assert Auth(browser).login().status_code == 302
    cookie = browser.get_cookie("session").value
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    assert copy.get("/account/settings").status_code == 200
    assert Auth(browser).logout().status_code == 302
    assert copy.get("/account/settings").status_code == 302  # sent to sign in
    # Signing in again works, and gives a new session.
    assert Auth(browser).login().status_code == 302
    assert browser.get("/account/settings").status_code == 200


def test_sign_out_everywhere_ends_every_session(app, make_user):
    make_user()
    laptop, phone = app.test_client(), app.test_client()
    Auth(laptop).login()
    Auth(phone).login()
    page = laptop.get("/account/settings").get_data(as_text=True)
    assert "Sign out everywhere" in page
    response = post_form(laptop, "/account/settings/sign-out-everywhere", {}, form_page="/account/settings")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/login")
    assert laptop.get("/account/settings").status_code == 302
    assert phone.get("/account/settings").status_code == 302


def test_password_email_and_delete_forms_share_ten_guesses_an_hour(app, client, make_user):
    make_user()
    Auth(client).login()
    forms = [
        ("/account/settings/password", {"current_password": "wrong", "new_password": "violet canyon sparrow"}),
        ("/account/settings/email", {"email": "new@example.com", "password": "wrong"}),
        ("/account/delete", {"password": "wrong", "confirm": "y"}),
    ]
    statuses = [post_form(client, *forms[i % 3]).status_code for i in range(10)]
    assert 429 not in statuses
    assert [post_form(client, url, data).status_code for url, data in forms] == [429, 429, 429]
