"""The opt-out and opt-in forms are rate limited per IP address."""

from __future__ import annotations

import pytest

from tests.conftest import post_form


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", "MAIL_FORM_RATE_LIMIT": "3 per hour"}


def test_opt_out_posts_are_limited_per_ip_but_the_form_still_loads(client):
    for n in range(3):
        assert post_form(client, "/opt-out", {"email": f"p{n}@example.com"}).status_code == 200
    assert post_form(client, "/opt-out", {"email": "p9@example.com"}).status_code == 429
    assert client.get("/opt-out").status_code == 200
    other_ip = post_form(client, "/opt-out", {"email": "q@example.com"}, environ_overrides={"REMOTE_ADDR": "192.0.2.7"})
    assert other_ip.status_code == 200


def test_opt_in_posts_are_limited_too(client):
    for n in range(3):
        assert post_form(client, "/opt-in", {"email": f"p{n}@example.com"}).status_code == 200
    assert post_form(client, "/opt-in", {"email": "p9@example.com"}).status_code == 429
