"""Under HTTPS the session cookie is also Secure."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_from

SITE = "https://ldn.example"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SITE_URL": SITE}


def test_session_cookie_is_secure_httponly_and_lax_under_https(client, make_user):
    make_user()
    page = client.get("/account/login", base_url=SITE)
    response = client.post(
        "/account/login",
        base_url=SITE,
        headers={"Referer": f"{SITE}/account/login"},  # CSRF checks the referrer over HTTPS
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "email": "member@example.com", "password": "correct horse battery"},
    )
    assert response.status_code == 302
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie
