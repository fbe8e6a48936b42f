"""Ids past the database's range answer 404 on every route with an id; redirects trust only the site's host."""

from __future__ import annotations

import logging
import re

import pytest

from tests.conftest import csrf_from, sign_in

pytestmark = pytest.mark.both_databases


def id_routes(app) -> list[tuple[str, str]]:
    """(method, rule) for every route with an integer id."""
    found = []
    for rule in app.url_map.iter_rules():
        if "<int:" in rule.rule:
            method = "GET" if "GET" in rule.methods else "POST"
            found.append((method, rule.rule))
    return found


@pytest.mark.parametrize("value", [2**31, 2**63, 10**30])
def test_ids_past_the_database_range_answer_404_without_a_traceback(app, client, make_user, value, caplog):
    admin = make_user(email="admin@example.com", name="Admin", role="admin")
    sign_in(client, admin)
    routes = id_routes(app)
    assert len(routes) >= 14
    token = csrf_from(client.get("/account/settings").get_data(as_text=True))
    with caplog.at_level(logging.WARNING):
        for method, rule in routes:
            path = re.sub(r"<int:\w+>", str(value), rule)
            path = re.sub(r"<[^>]+>", "x", path)
            response = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 404, (method, path, response.status_code)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_an_anonymous_reader_gets_404_for_a_huge_topic_id(client):
    assert client.get(f"/forum/t/{2**63}").status_code == 404
    assert client.get("/forum/t/9223372036854775807").status_code in (404,)


def public_site(app_config, **extra):
    from ldnsite import create_app

    return create_app({**app_config, "SITE_URL": "https://ldn-guide.example", **extra})


def test_the_slash_redirect_uses_only_the_configured_host(app_config):
    client = public_site(app_config).test_client()
    response = client.get("/forum", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "evil.example" not in response.get_data(as_text=True)
    good = client.get("/forum", headers={"Host": "ldn-guide.example"})
    assert good.status_code == 308
    assert good.headers["Location"].split("/")[2] == "ldn-guide.example"


def test_extra_hosts_can_be_trusted_explicitly(app_config):
    app = public_site(app_config, TRUSTED_HOSTS=["ldn-guide.example", "10.0.0.5"])
    assert app.test_client().get("/forum", headers={"Host": "10.0.0.5"}).status_code == 308
