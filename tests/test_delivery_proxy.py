"""The site behind a real nginx, configured as docs/deploy.md tells operators (bench/proxy.py builds it).

What an operator must be able to trust: anonymous pages are served from the
cache, in the encoding the reader asked for; a member's request never reads
or fills the cache; pages with a CSRF token are neither cached nor
compressed, by the app or by nginx (Debian's nginx.conf turns gzip on).
With the page files of `flask content snapshot` in place, an anonymous read
of a content page gets the app's page with the app's headers, straight from
the file; a member, a query string or a POST never gets a file.
"""

from __future__ import annotations

import re

import pytest

from bench.proxy import Proxy, Reader, nginx_binary
from ldnsite.content.snapshot import write_snapshots

pytestmark = pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed here (make test installs Debian's nginx)")

ARTICLE = "/treatments/low-dose-naltrexone"


@pytest.fixture
def proxy(live_server):
    port = int(live_server.rsplit(":", 1)[1])
    with Proxy(port) as running:
        yield running


@pytest.fixture
def pages_proxy(live_server, app):
    port = int(live_server.rsplit(":", 1)[1])
    with Proxy(port) as running:
        outcome = write_snapshots(app, running.pages_dir)
        assert outcome.written and not outcome.skipped
        yield running


def status(response) -> str:
    return response.headers.get("X-Cache-Status", "")


@pytest.mark.parametrize("encoding", ["", "gzip", "br"])
def test_anonymous_article_comes_from_the_cache_in_the_encoding_asked_for(proxy, encoding):
    first, page, _ = Reader(proxy.port, encoding).get(ARTICLE)
    assert first.status == 200 and status(first) == "MISS"
    again, same, _ = Reader(proxy.port, encoding).get(ARTICLE)
    assert status(again) == "HIT"
    assert same == page and b"<h1" in page
    assert again.headers.get("Content-Encoding") == (encoding or None)
    assert "Accept-Encoding" in again.headers["Vary"]
    assert again.headers.get("Set-Cookie") is None


def test_browsers_spelling_accept_encoding_differently_share_one_entry(proxy):
    Reader(proxy.port, "gzip, deflate, br").get("/about")
    response, _, _ = Reader(proxy.port, "br, gzip").get("/about")
    assert status(response) == "HIT" and response.headers["Content-Encoding"] == "br"


def test_a_member_never_reads_or_fills_the_cache(proxy, make_user):
    make_user()
    reader = Reader(proxy.port, "br")
    reader.get("/about")  # now cached for anonymous readers
    member = Reader(proxy.port, "br")
    _, html, _ = member.get("/account/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html).group(1).decode()
    posted, _, _ = member.post("/account/login", {"csrf_token": token, "email": "member@example.com", "password": "correct horse battery"})
    assert posted.status in (302, 303)
    for path in ("/about", "/", "/forum/", ARTICLE, "/account/settings"):
        response, page, _ = member.get(path)
        assert status(response) == "BYPASS", path
        assert b"/account/logout" in page, path  # their own signed-in page, not the shared copy
    for path in ("/about", "/", ARTICLE):
        response, page, _ = Reader(proxy.port, "br").get(path)
        assert b"/account/logout" not in page and b"csrf_token" not in page, path
        assert response.headers.get("Set-Cookie") is None


@pytest.mark.parametrize("path", ["/account/login", "/opt-out"])
def test_pages_with_a_csrf_token_are_neither_cached_nor_compressed(proxy, path):
    tokens = set()
    for _ in range(3):
        response, page, _ = Reader(proxy.port, "gzip, br").get(path)
        assert response.status == 200
        assert status(response) in ("MISS", "EXPIRED", "")  # fetched from the app every time
        assert response.headers.get("Content-Encoding") is None  # neither the app nor nginx compressed it
        assert response.headers.get("Set-Cookie")
        tokens.add(re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1))
    assert len(tokens) == 3  # each reader got their own token, not a cached one
    assert not [p for p in proxy.cached_files() if b"csrf_token" in p.read_bytes()]


def test_a_request_with_a_session_cookie_bypasses_the_cache(proxy):
    Reader(proxy.port).get("/about")
    reader = Reader(proxy.port)
    reader.cookies["session"] = "not-a-valid-session"
    response, _, _ = reader.get("/about")
    assert status(response) == "BYPASS"


def test_the_cache_revalidates_with_the_app_and_keeps_nothing_personal(proxy):
    for path in ("/", "/forum/", ARTICLE, "/treatments/", "/search?q=sleep", "/account/login", "/opt-out"):
        Reader(proxy.port, "br").get(path)
    stored = [p.read_bytes() for p in proxy.cached_files()]
    assert len(stored) >= 5
    for entry in stored:
        head = entry.split(b"\r\n\r\n", 1)[0]
        assert b"Set-Cookie" not in head and b"no-store" not in head and b"private" not in head


# Headers nginx sets for any file (its own validators, Date and the like), or that say how it was served.
NGINX_OWN = {"date", "server", "connection", "etag", "last-modified", "content-length", "accept-ranges", "x-cache-status"}


@pytest.mark.parametrize("encoding", ["", "gzip", "br"])
@pytest.mark.parametrize("path", [ARTICLE, f"{ARTICLE}/research", f"{ARTICLE}/summary", "/treatments/", "/about"])
def test_anonymous_content_pages_come_from_the_page_files_as_the_app_serves_them(pages_proxy, client, encoding, path):
    response, page, _ = Reader(pages_proxy.port, encoding).get(path)
    assert response.status == 200 and status(response) == "PAGE"
    app = client.get(path, headers={"Accept-Encoding": encoding or "identity"})
    assert page == client.get(path, headers={"Accept-Encoding": "identity"}).get_data()
    sent = {k.lower(): v for k, v in response.headers.items()}
    expected = {k.lower(): v for k, v in app.headers.items() if k.lower() not in NGINX_OWN}
    assert {k: v for k, v in sent.items() if k not in NGINX_OWN} == expected  # the same policy and security headers
    assert sent.get("content-encoding") == (encoding or None)
    assert "set-cookie" not in sent


def test_a_page_file_answers_304_to_a_reader_who_has_it(pages_proxy):
    reader = Reader(pages_proxy.port, "br")
    first, _, _ = reader.get(ARTICLE)
    again, body, _ = reader.get(ARTICLE, **{"If-None-Match": first.headers["ETag"]})
    assert again.status == 304 and body == b""
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]


@pytest.mark.parametrize("cookie", ["session", "remember_token"])
def test_a_request_with_a_session_or_remember_me_cookie_never_gets_a_page_file(pages_proxy, cookie):
    reader = Reader(pages_proxy.port, "br")
    reader.cookies[cookie] = "anything"
    response, _, _ = reader.get(ARTICLE)
    assert status(response) == "BYPASS"


def test_a_signed_in_member_gets_their_own_page_not_the_file(pages_proxy, make_user):
    make_user()
    member = Reader(pages_proxy.port, "br")
    _, html, _ = member.get("/account/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html).group(1).decode()
    member.post("/account/login", {"csrf_token": token, "email": "member@example.com", "password": "correct horse battery"})
    for path in (ARTICLE, "/treatments/", "/about"):
        response, page, _ = member.get(path)
        assert status(response) == "BYPASS" and b"/account/logout" in page, path


def test_a_query_string_or_a_post_goes_to_the_app(pages_proxy):
    response, _, _ = Reader(pages_proxy.port, "br").get(ARTICLE + "?from=feed")
    assert status(response) == "MISS"  # through the proxy cache, under its own key
    posted, _, _ = Reader(pages_proxy.port).post(ARTICLE, {"x": "1"})
    assert status(posted) != "PAGE" and posted.status == 405
    assert "no-store" in posted.headers["Cache-Control"]  # the app's answer, not nginx's


def test_forum_and_home_pages_stay_with_the_30_second_cache(pages_proxy):
    for path in ("/", "/forum/", "/search?q=sleep", "/feed.xml"):
        Reader(pages_proxy.port, "br").get(path)
        response, _, _ = Reader(pages_proxy.port, "br").get(path)
        assert status(response) == "HIT", path
