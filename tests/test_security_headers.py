"""Security headers on every kind of response, and content-hashed static URLs with long cache lifetimes."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CSS = ROOT / "static" / "css" / "site.css"


def csp_directives(value: str) -> dict[str, list[str]]:
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_security_headers(response) -> None:
    csp = response.headers.get("Content-Security-Policy")
    assert csp, f"no CSP on {response.request.path}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    directives = csp_directives(csp)
    assert directives["default-src"] == ["'self'"]
    for name in ("script-src", "style-src"):
        assert directives[name] == ["'self'"], name  # no inline code, no other origins
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer", "same-origin")
    permissions = response.headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in permissions


def static_url(client, filename: str) -> str:
    html = client.get("/about").get_data(as_text=True)
    match = re.search(rf'href="(/static/{re.escape(filename)}\?v=[0-9a-f]+)"', html)
    assert match, f"no hashed link to {filename}"
    return match.group(1)


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/treatments/", 200),
        ("GET", "/about", 200),
        ("GET", "/sitemap.xml", 200),
        ("GET", "/robots.txt", 200),
        ("GET", "/feed.xml", 200),
        ("GET", "/healthz", 200),
        ("GET", "/no-such-page", 404),
        ("POST", "/about", 405),
        ("GET", "/static/css/site.css", 200),
        ("GET", "/static/no-such-file.css", 404),
    ],
)
def test_every_response_carries_the_security_headers(client, method, url, status):
    response = client.open(url, method=method)
    assert response.status_code == status
    assert_security_headers(response)


def test_not_modified_and_hashed_static_responses_carry_them_too(client):
    first = client.get("/about")
    not_modified = client.get("/about", headers={"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304
    assert_security_headers(not_modified)
    assert_security_headers(client.get(static_url(client, "css/site.css")))


def test_hsts_only_when_the_site_is_served_over_https(app_config):
    from ldnsite import create_app

    assert "Strict-Transport-Security" not in create_app(app_config).test_client().get("/about").headers
    secure = create_app({**app_config, "SITE_URL": "https://ldn-guide.example"}).test_client().get("/about")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_pages_link_static_files_by_content_hash(client):
    url = static_url(client, "css/site.css")
    digest = url.rsplit("v=", 1)[1]
    assert hashlib.sha256(CSS.read_bytes()).hexdigest().startswith(digest)
    for filename in ("css/print.css", "favicon.svg"):
        static_url(client, filename)


def test_hashed_static_url_is_cached_for_a_year_and_immutable(client):
    response = client.get(static_url(client, "css/site.css"))
    assert response.status_code == 200
    assert response.data == CSS.read_bytes()
    cache = response.cache_control
    assert cache.public and cache.max_age >= 365 * 24 * 3600 and cache.immutable


@pytest.mark.parametrize("query", ["", "?v=0123456789ab", "?v="])
def test_unhashed_or_wrongly_hashed_static_url_is_not_cached_long(client, query):
    response = client.get("/static/css/site.css" + query)
    assert response.status_code == 200
    cache = response.cache_control
    assert not cache.immutable
    assert cache.no_cache or not cache.max_age or cache.max_age < 3600


def test_session_cookie_is_httponly_and_samesite(app, client):
    # Any page that stores something in the session will set it; a flash message does.
    @app.get("/_test/flash")
    def flash_something():
        from flask import flash

        flash("Saved.", "success")
        return "ok"

    response = client.get("/_test/flash")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_behind_a_proxy_the_client_address_and_scheme_come_from_it(app_config):
    from flask import request

    from ldnsite import create_app

    def whoami():
        return {"addr": request.remote_addr, "secure": request.is_secure}

    direct = create_app(app_config)
    direct.add_url_rule("/_test/whoami", view_func=whoami)
    proxied = create_app({**app_config, "PROXY_COUNT": 1})
    proxied.add_url_rule("/_test/whoami", view_func=whoami)
    forwarded = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7", "X-Forwarded-Proto": "https"}

    # Without a configured proxy, forwarded headers are ignored: a client could forge them.
    assert direct.test_client().get("/_test/whoami", headers=forwarded).get_json() == {"addr": "127.0.0.1", "secure": False}
    # With one proxy, only the address that proxy added is trusted.
    response = proxied.test_client().get("/_test/whoami", headers=forwarded)
    assert response.get_json() == {"addr": "198.51.100.7", "secure": True}
    assert "Strict-Transport-Security" in response.headers


def test_every_parameterless_route_answers_with_the_security_headers(app, client):
    """Whatever a capability adds, its responses get the headers too (they come from one after_request)."""
    urls = sorted(
        {
            rule.rule
            for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or ()) and not rule.arguments and not rule.rule.startswith("/_test")
        }
    )
    assert len(urls) >= 10
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        assert_security_headers(response)
