"""The site's log lines: one format, the request's id on each, and never an email address or a token.

A route that exists only in this module's app logs what real failures log (a
recipient's address quoted by a relay, the emailed link the request came
through) and then fails, so the traceback is checked too.
"""

from __future__ import annotations

import io
import logging
import re

import pytest
from flask import request

from ldnsite.logs import site_handler
from ldnsite.mail.tokens import unsubscribe_token

ADDRESS = "reader@example.com"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def app(app):
    def fails_for_a_reader(token):
        logging.getLogger("ldnsite.mail.delivery").warning(
            "relay refused %s for %s (reset link %s?token=%s)", ADDRESS, request.path, "/account/reset/abc", token
        )
        raise RuntimeError(f"refused <{ADDRESS}> while handling {token}")

    app.add_url_rule("/_test/unsubscribe/<token>", view_func=fails_for_a_reader)
    return app


@pytest.fixture
def log_output():
    """What the site's own handler writes, in its real format."""
    stream = io.StringIO()
    previous = site_handler().setStream(stream)
    yield stream
    site_handler().setStream(previous)


def test_a_request_log_line_carries_the_request_id_and_no_address_or_token(app, client, log_output):
    token = unsubscribe_token(ADDRESS, app.config)
    response = client.get(f"/_test/unsubscribe/{token}", headers={"X-Request-Id": "proxy-id-1234"})
    assert response.status_code == 500
    assert response.headers["X-Request-Id"] == "proxy-id-1234"

    text = log_output.getvalue()
    refused = [line for line in text.splitlines() if "relay refused" in line]
    assert len(refused) == 1
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING ldnsite\.mail\.delivery \[proxy-id-1234\] ", refused[0])
    assert "<address>" in refused[0] and "/_test/unsubscribe/<token>" in refused[0] and "token=<token>" in refused[0]
    assert "[proxy-id-1234] unhandled error" in text  # the error page's line: the same request, the same id
    assert "Traceback" in text and "RuntimeError: refused <<address>>" in text
    assert ADDRESS not in text and "example.com" not in text
    assert token not in text and token.split(".")[-1] not in text


def test_each_request_gets_its_own_id_when_none_or_a_malformed_one_is_sent(client, log_output):
    ids = set()
    for header in (
        {},
        {"X-Request-Id": "short"},
        {"X-Request-Id": "has spaces in it"},
        {"X-Request-Id": "x" * 65},
        {"X-Request-Id": "me@example.com"},
    ):
        response = client.get("/_test/unsubscribe/abc", headers=header)
        request_id = response.headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id), header
        assert f"[{request_id}] " in log_output.getvalue()
        ids.add(request_id)
    assert len(ids) == 5


def test_lines_outside_a_request_have_no_id(app, log_output):
    logging.getLogger("ldnsite.mail.worker").warning("pass failed for %s", ADDRESS)
    assert log_output.getvalue().endswith(" WARNING ldnsite.mail.worker [-] pass failed for <address>\n")


def test_a_response_a_shared_cache_may_keep_carries_no_request_id(client):
    """A proxy would otherwise hand the first reader's id to every later reader of the cached page."""
    page = client.get("/treatments/low-dose-naltrexone", headers={"X-Request-Id": "proxy-id-5678"})
    assert page.status_code == 200 and page.cache_control.public
    assert "X-Request-Id" not in page.headers
    private = client.get("/_test/unsubscribe/abc", headers={"X-Request-Id": "proxy-id-5678"})
    assert not private.cache_control.public and private.headers["X-Request-Id"] == "proxy-id-5678"
