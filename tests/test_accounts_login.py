"""Sign-in and sign-out over HTTP: one message for any wrong credentials, safe redirects, rotated sessions."""

from __future__ import annotations

import re

import pytest

from ldnsite.accounts.models import User
from ldnsite.db import utcnow
from tests.conftest import csrf_from, post_form

PASSWORD = "correct horse battery"


def error_summary(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "no error summary"
    return match.group(0)


def signed_in(client) -> bool:
    return client.get("/account/settings").status_code == 200


def test_sign_in_page_fields(client):
    html = client.get("/account/login").get_data(as_text=True)
    assert re.search(r'<input[^>]*autocomplete="email"[^>]*name="email"[^>]*type="email"', html)
    assert re.search(r'<input[^>]*autocomplete="current-password"[^>]*name="password"[^>]*type="password"', html)
    assert "<h1>Sign in</h1>" in html


@pytest.mark.both_databases
def test_sign_in_and_out(client, make_user, auth):
    make_user()
    response = auth.login("Member@Example.com", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/forum/"
    assert signed_in(client)
    assert "Sign out" in client.get("/account/settings").get_data(as_text=True)
    out = auth.logout()
    assert out.status_code == 302
    assert not signed_in(client)


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_user):
    make_user(email="member@example.com")
    wrong_password = post_form(client, "/account/login", {"email": "member@example.com", "password": "not the password"})
    unknown_email = post_form(client, "/account/login", {"email": "nobody@example.com", "password": "not the password"})
    assert wrong_password.status_code == unknown_email.status_code == 422
    a, b = wrong_password.get_data(as_text=True), unknown_email.get_data(as_text=True)
    assert error_summary(a) == error_summary(b)
    assert "Enter a correct email address and password" in error_summary(a)
    # The pages differ only in the address typed and the CSRF token.
    strip = lambda html, email: re.sub(r'value="[^"]*"', "", html.replace(email, "EMAIL"))  # noqa: E731
    assert strip(a, "member@example.com") == strip(b, "nobody@example.com")
    assert "not the password" not in a
    assert not signed_in(client)


def test_empty_fields_are_reported_by_the_fields(client):
    response = post_form(client, "/account/login", {"email": "", "password": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<a href="#email">Enter your email address</a>' in html
    assert '<a href="#password">Enter your password</a>' in html


def test_over_long_input_is_refused(client, make_user):
    make_user()
    response = post_form(client, "/account/login", {"email": "member@example.com", "password": "x" * 300})
    assert response.status_code == 422
    assert "256 characters or fewer" in response.get_data(as_text=True)


@pytest.mark.both_databases
def test_deleted_account_cannot_sign_in(client, query, make_user, auth):
    user = make_user()
    with query() as db:
        db.get(User, user.id).deleted_at = utcnow()
        db.commit()
    assert auth.login().status_code == 422
    assert not signed_in(client)


def test_session_is_rotated_on_sign_in(client, make_user):
    make_user()
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    before = client.get_cookie("session").value
    page = client.get("/account/login").get_data(as_text=True)
    client.post("/account/login", data={"csrf_token": csrf_from(page), "email": "member@example.com", "password": PASSWORD})
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["_user_id"].endswith(":1")
        assert "csrf_token" not in s  # a token issued before sign-in is not carried over


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "/%0a/evil.example".replace("%0a", "\n"),
        "javascript:alert(1)",
        "http:/evil.example",
        " /account/settings",
        "evil.example",
    ],
)
def test_next_never_leaves_the_site(client, make_user, target):
    make_user()
    page = client.get("/account/login", query_string={"next": target}).get_data(as_text=True)
    assert "evil" not in page
    # Even when posted directly in the form, a foreign target is ignored.
    response = client.post(
        "/account/login", data={"csrf_token": csrf_from(page), "email": "member@example.com", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/forum/"


def test_next_to_a_path_on_this_site_is_followed(client, make_user):
    make_user()
    page = client.get("/account/login?next=/treatments/low-dose-naltrexone%3Fa%3D1").get_data(as_text=True)
    assert 'value="/treatments/low-dose-naltrexone?a=1"' in page
    response = client.post(
        "/account/login",
        data={
            "csrf_token": csrf_from(page),
            "email": "member@example.com",
            "password": PASSWORD,
            "next": "/treatments/low-dose-naltrexone?a=1",
        },
    )
    assert response.headers["Location"] == "/treatments/low-dose-naltrexone?a=1"


def test_pages_that_need_sign_in_come_back_after_it(client, make_user):
    make_user()
    response = client.get("/account/settings")
    assert response.status_code == 302
    assert "/account/login?next=" in response.headers["Location"]
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    next_value = re.search(r'name="next"[^>]*value="([^"]*)"', login_page).group(1)
    done = client.post(
        "/account/login",
        data={"csrf_token": csrf_from(login_page), "email": "member@example.com", "password": PASSWORD, "next": next_value},
    )
    assert done.headers["Location"] == "/account/settings"


def test_logout_is_post_only_and_needs_csrf(client, make_user, auth):
    make_user()
    auth.login()
    get = client.get("/account/logout")
    assert get.status_code == 405
    assert signed_in(client)
    no_token = client.post("/account/logout")
    assert no_token.status_code == 400
    assert signed_in(client)
    auth.logout()
    assert not signed_in(client)


def test_login_csrf_missing_is_400(client, make_user):
    make_user()
    response = client.post("/account/login", data={"email": "member@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert not signed_in(client)


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user, auth):
    make_user()
    response = auth.login()
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; see test_accounts_cookies for https
    assert not any(h.startswith("remember_token=") for h in response.headers.getlist("Set-Cookie"))
