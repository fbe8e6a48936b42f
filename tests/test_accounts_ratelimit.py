"""Rate limits on sign-in (per IP address and per account) and on password reset requests."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_from


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def attempt(client, email: str, password: str, ip: str):
    env = {"REMOTE_ADDR": ip}
    page = client.get("/account/login", environ_base=env).get_data(as_text=True)
    return client.post("/account/login", environ_base=env, data={"csrf_token": csrf_from(page), "email": email, "password": password})


def test_sign_in_is_limited_per_ip_address(client, make_user):
    make_user()
    statuses = [attempt(client, f"guess{i}@example.com", "wrong password", "203.0.113.5").status_code for i in range(10)]
    assert statuses == [422] * 10
    blocked = attempt(client, "member@example.com", "correct horse battery", "203.0.113.5")
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    # Another address is not affected.
    assert attempt(client, "member@example.com", "correct horse battery", "203.0.113.6").status_code == 302


def test_sign_in_failures_are_limited_per_account_across_addresses(client, make_user):
    make_user(email="target@example.com", name="Target")
    make_user(email="other@example.com", name="Other")
    for i in range(20):
        assert attempt(client, "target@example.com", "wrong password", f"198.51.100.{i + 1}").status_code == 422
    assert attempt(client, "Target@Example.com", "correct horse battery", "198.51.100.200").status_code == 429
    assert attempt(client, "other@example.com", "correct horse battery", "198.51.100.201").status_code == 302


def test_successful_sign_ins_do_not_use_up_the_account_limit(client, make_user):
    make_user()
    for i in range(22):
        response = attempt(client, "member@example.com", "correct horse battery", f"192.0.2.{i + 1}")
        assert response.status_code == 302
        client.delete_cookie("session")


def test_password_reset_requests_are_limited_per_account(client, make_user):
    make_user()
    for i in range(3):
        page = client.get("/account/reset").get_data(as_text=True)
        response = client.post(
            "/account/reset",
            environ_base={"REMOTE_ADDR": f"192.0.2.{i + 1}"},
            data={"csrf_token": csrf_from(page), "email": "member@example.com"},
        )
        assert response.status_code == 302
    page = client.get("/account/reset").get_data(as_text=True)
    response = client.post(
        "/account/reset", environ_base={"REMOTE_ADDR": "192.0.2.99"}, data={"csrf_token": csrf_from(page), "email": "member@example.com"}
    )
    assert response.status_code == 429
