"""Brotli and gzip negotiated with the client, and never on a response that carries a secret (BREACH).

BREACH recovers a secret from a compressed page when the page also reflects
text the attacker chooses: the compressed size shrinks when the guess
matches. So pages with a CSRF token (every signed-in page, every form) and
the personal pages are sent uncompressed, while public pages, which hold no
secret, are compressed (docs/security.md).
"""

from __future__ import annotations

import gzip

import brotli
import pytest

from tests.conftest import csrf_from, sign_in

ARTICLE = "/treatments/low-dose-naltrexone"


def decoded(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    data = response.get_data()
    if encoding == "br":
        return brotli.decompress(data)
    if encoding == "gzip":
        return gzip.decompress(data)
    assert encoding is None, encoding
    return data


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip, deflate, br", "br"),
        ("br", "br"),
        ("gzip", "gzip"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("*", "br"),
        ("identity", None),
        ("", None),
        ("deflate", None),
    ],
)
def test_the_encoding_is_negotiated_and_the_bytes_are_the_same_page(client, accept, expected):
    plain = client.get(ARTICLE).get_data()
    response = client.get(ARTICLE, headers={"Accept-Encoding": accept} if accept else {})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == expected
    assert "Accept-Encoding" in response.vary  # also on the uncompressed answer, so no cache mixes them up
    assert decoded(response) == plain
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    if expected:
        assert len(response.get_data()) < len(plain) / 3


@pytest.mark.parametrize("url", ["/", "/forum/", "/treatments/", "/feed.xml", "/sitemap.xml", "/search?q=sleep"])
def test_text_responses_of_every_kind_are_compressed(client, url):
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == "gzip", response.mimetype
    assert decoded(response)


def test_the_stylesheet_is_compressed_under_its_hashed_url(client):
    import re

    hashed = re.search(rb'href="(/static/css/site\.css\?v=[0-9a-f]+)"', client.get("/about").data).group(1).decode()
    plain = client.get(hashed).get_data()
    for encoding in ("br", "gzip"):
        response = client.get(hashed, headers={"Accept-Encoding": encoding})
        assert response.headers["Content-Encoding"] == encoding
        assert decoded(response) == plain


def test_repeated_requests_reuse_the_compressed_bytes(app, client):
    first = client.get(ARTICLE, headers={"Accept-Encoding": "br"})
    cache = app.extensions["compress"].cache
    stored = len(cache.data)
    assert stored >= 1
    second = client.get(ARTICLE, headers={"Accept-Encoding": "br"})
    assert second.get_data() == first.get_data()
    assert len(cache.data) == stored  # not compressed a second time


def test_the_compressed_bytes_cache_stays_within_its_limit():
    from ldnsite.security.compression import CompressedBytes

    cache = CompressedBytes(limit=1000)
    for i in range(50):
        cache.set(f"br;/page|{i}", b"x" * 100)
    assert cache.size <= 1000 and len(cache.data) == 10
    assert cache.get("br;/page|49") == b"x" * 100 and cache.get("br;/page|0") is None
    cache.set("br;", b"y")  # a response without an ETag is never stored
    assert cache.get("br;") is None


# ---- BREACH ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/account/login", "/account/register", "/account/reset", "/opt-out", "/opt-in"])
def test_anonymous_pages_with_a_csrf_token_are_not_compressed(client, url):
    response = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert b'name="csrf_token"' in response.data
    assert "Content-Encoding" not in response.headers


def test_a_form_that_reflects_what_was_typed_next_to_its_token_is_not_compressed(client):
    page = client.get("/opt-out")
    typed = "attacker-guess-csrf_token=IjA"
    response = client.post(
        "/opt-out", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "email": typed}, headers={"Accept-Encoding": "gzip, br"}
    )
    assert response.status_code in (400, 422)
    assert typed.encode() in response.data and b'name="csrf_token"' in response.data
    assert "Content-Encoding" not in response.headers


def test_a_members_search_page_reflects_the_query_beside_a_token_so_is_not_compressed(app, make_user):
    client = app.test_client()
    sign_in(client, make_user())
    response = client.get("/search?q=csrf_token%3DImY", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert b'name="csrf_token"' in response.data and b"csrf_token=ImY" in response.data
    assert "Content-Encoding" not in response.headers


def test_the_same_search_for_an_anonymous_reader_has_no_secret_so_is_compressed(client):
    response = client.get("/search?q=csrf_token%3DImY", headers={"Accept-Encoding": "gzip, br"})
    assert b"csrf_token" not in decoded(response).replace(b"csrf_token=ImY", b"")
    assert response.headers.get("Content-Encoding") == "br"


@pytest.mark.parametrize("url", ["/account/export", "/moderation/users", "/account/settings"])
def test_personal_pages_are_not_compressed(app, make_user, url):
    client = app.test_client()
    sign_in(client, make_user(role="moderator"))
    response = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
