"""Cache headers a shared cache (nginx, a CDN) can act on, per page type and per signed-in state.

What an operator relies on: anonymous pages are public with a short shared
lifetime and revalidate with 304; nothing a member or a moderator sees, and
nothing with a CSRF token, may be kept by a shared cache; a public response
never sets a cookie.
"""

from __future__ import annotations

import re

import pytest

from ldnsite.security import cache_policy
from tests.conftest import ROOT, post_form, sign_in

CONTENT_PAGES = [
    "/treatments/low-dose-naltrexone",
    "/treatments/",
    "/conditions/",
    "/conditions/fibromyalgia",
    "/about",
    "/privacy",
    "/feed.xml",
    "/sitemap.xml",
    "/robots.txt",
    "/opensearch.xml",
]
FORUM_PAGES = ["/", "/forum/", "/forum/t/{topic}", "/search?q=naltrexone"]
PERSONAL_PAGES = [
    "/account/settings",
    "/account/export",
    "/account/settings/password",
    "/moderation/",
    "/moderation/log",
    "/moderation/users",
]


def directives(response) -> dict:
    """Cache-Control as a shared cache reads it: flags, and seconds for the directives that take them."""
    value = response.headers.get("Cache-Control", "")
    parts = dict(p.strip().partition("=")[::2] for p in value.split(",") if p.strip())

    def seconds(name: str) -> int | None:
        return int(parts[name]) if parts.get(name, "").isdigit() else None

    return {
        "raw": value,
        "public": "public" in parts,
        "private": "private" in parts,
        "no_store": "no-store" in parts,
        "s_maxage": seconds("s-maxage"),
        "max_age": seconds("max-age"),
        "swr": seconds("stale-while-revalidate"),
    }


@pytest.fixture
def topic(make_user, make_topic) -> int:
    author = make_user("author@example.com", "Ann Author")
    topic_id, _ = make_topic(author, title="Sleep on LDN", body="Vivid dreams for the first week.")
    return topic_id


@pytest.fixture
def moderator(make_user):
    return make_user("mod@example.com", "Maya Moderator", role="moderator")


@pytest.fixture
def member(make_user):
    return make_user("member@example.com", "Sam Member")


def fill(url: str, topic: int) -> str:
    return url.format(topic=topic)


@pytest.mark.parametrize("url", CONTENT_PAGES)
def test_anonymous_content_pages_are_shared_for_minutes_and_revalidated(client, url):
    response = client.get(url)
    assert response.status_code == 200
    d = directives(response)
    assert d["public"] and d["max_age"] == 0, d["raw"]  # browsers always revalidate
    assert d["s_maxage"] == cache_policy.CONTENT_SECONDS and d["swr"], d["raw"]
    assert response.headers["ETag"]
    assert "Set-Cookie" not in response.headers
    assert {"Cookie", "Accept-Encoding"} <= set(response.vary)


@pytest.mark.parametrize("url", FORUM_PAGES)
def test_anonymous_forum_pages_are_shared_for_seconds_only(client, topic, url):
    response = client.get(fill(url, topic))
    assert response.status_code == 200
    d = directives(response)
    assert d["public"] and d["max_age"] == 0, d["raw"]
    assert d["s_maxage"] + d["swr"] <= 30, d["raw"]  # the promise in docs/deploy.md
    assert "stale-if-error" not in d["raw"]  # a removed post must not outlive the bound while the app is down
    assert response.headers["ETag"]
    assert "Set-Cookie" not in response.headers


def test_the_removal_bound_in_the_docs_is_the_one_the_headers_give():
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    seconds = cache_policy.FORUM_VISIBLE_WITHIN
    assert re.search(rf"within {seconds} seconds", deploy), f"docs/deploy.md must state the {seconds} s bound"


@pytest.mark.parametrize("url", [*CONTENT_PAGES[:3], *FORUM_PAGES])
def test_a_shared_cache_revalidates_with_if_none_match_and_gets_304(client, topic, url):
    url = fill(url, topic)
    first = client.get(url)
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]  # a 304 refreshes the cache's copy
    assert client.get(url, headers={"If-None-Match": '"another-version"'}).status_code == 200


def test_each_encoding_has_its_own_etag_and_revalidates_on_its_own(client):
    url = "/treatments/low-dose-naltrexone"
    plain = client.get(url).headers["ETag"]
    br = client.get(url, headers={"Accept-Encoding": "br"})
    assert br.headers["Content-Encoding"] == "br"
    assert br.headers["ETag"] != plain  # a strong ETag names one representation
    again = client.get(url, headers={"Accept-Encoding": "br", "If-None-Match": br.headers["ETag"]})
    assert again.status_code == 304
    assert "Content-Encoding" not in again.headers or again.data == b""


def test_a_new_post_changes_the_topic_etag(client, topic, make_user, make_post):
    url = f"/forum/t/{topic}"
    etag = client.get(url).headers["ETag"]
    make_post(topic, make_user("ben@example.com", "Ben"), "Same here: it settled after a fortnight.")
    after = client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert b"it settled after a fortnight" in after.data


@pytest.mark.parametrize("who", ["member", "moderator"])
@pytest.mark.parametrize("url", [*CONTENT_PAGES[:5], *FORUM_PAGES])
def test_signed_in_pages_are_never_public(app, topic, member, moderator, who, url):
    client = app.test_client()
    sign_in(client, member if who == "member" else moderator)
    response = client.get(fill(url, topic))
    assert response.status_code == 200
    d = directives(response)
    assert d["private"] and not d["public"] and not d["s_maxage"], d["raw"]
    # Every signed-in page carries the sign-out form's CSRF token, so none may even be stored.
    if response.mimetype == "text/html":
        assert b'name="csrf_token"' in response.data
        assert d["no_store"], d["raw"]


@pytest.mark.parametrize("url", PERSONAL_PAGES)
def test_personal_pages_are_no_store(app, moderator, url):
    client = app.test_client()
    sign_in(client, moderator)
    response = client.get(url)
    assert response.status_code == 200, url
    d = directives(response)
    assert d["no_store"] and d["private"] and not d["public"], d["raw"]
    assert "Content-Encoding" not in client.get(url, headers={"Accept-Encoding": "gzip, br"}).headers


def test_the_member_list_with_every_address_is_no_store(app, moderator, member):
    client = app.test_client()
    sign_in(client, moderator)
    response = client.get("/moderation/users")
    assert b"member@example.com" in response.data
    assert directives(response)["no_store"]


@pytest.mark.parametrize("url", ["/account/login", "/account/register", "/account/reset", "/opt-out", "/opt-in"])
def test_anonymous_form_pages_need_a_session_so_are_not_public(client, url):
    response = client.get(url)
    assert response.status_code == 200
    d = directives(response)
    assert d["no_store"] and not d["public"], d["raw"]


def test_a_form_sent_back_with_errors_is_no_store(client):
    response = post_form(client, "/opt-out", {"email": "not an address"})
    assert response.status_code in (400, 422)
    assert directives(response)["no_store"]


def test_errors_and_redirects_are_not_kept(client, topic):
    for response in (client.get("/no-such-page"), client.get("/forum/t/999999"), client.get("/forum/new")):
        d = directives(response)
        assert response.status_code in (302, 303, 404)
        assert not d["public"] and d["no_store"], d["raw"]


def test_health_checks_always_reach_the_application(client):
    assert directives(client.get("/healthz"))["no_store"]


def test_a_page_that_shows_a_flash_message_is_personal(app, client):
    @app.get("/_test/flash-then-read")
    def flash_then_read():
        from flask import flash, redirect

        flash("Your choice was saved.", "success")
        return redirect("/about")

    response = client.get("/_test/flash-then-read", follow_redirects=True)
    assert b"Your choice was saved." in response.data
    d = directives(response)
    assert not d["public"], d["raw"]
    # The next anonymous reader of /about is back on the shared copy.
    assert directives(app.test_client().get("/about"))["public"]


def anonymous_get_urls(app, topic: int) -> list[str]:
    urls = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.arguments and not rule.rule.startswith("/_test")
    }
    return sorted(
        urls | {f"/forum/t/{topic}", "/treatments/low-dose-naltrexone", "/conditions/me-cfs", "/search?q=ldn", "/search?q=sleep&kind=forum"}
    )


def test_no_cacheable_response_sets_a_cookie_and_no_page_with_a_token_is_stored(app, topic):
    """A first visit from a fresh browser to every page: public answers set no cookie; token pages are never kept."""
    checked = 0
    for url in anonymous_get_urls(app, topic):
        response = app.test_client().get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        d = directives(response)
        if d["public"]:
            checked += 1
            assert "Set-Cookie" not in response.headers, url
        if response.headers.get("Set-Cookie"):
            assert d["no_store"] and not d["public"], url
        if b"csrf_token" in response.get_data():
            assert d["no_store"], url
            assert "Content-Encoding" not in response.headers, url
    assert checked >= 12


def test_a_reader_who_signed_out_is_back_on_the_shared_pages(app, member):
    client = app.test_client()
    post_form(client, "/account/login", {"email": "member@example.com", "password": "correct horse battery"})
    assert directives(client.get("/about"))["private"]
    logout = post_form(client, "/account/logout", {}, form_page="/")
    assert directives(logout)["no_store"]
    response = client.get("/about")
    assert response.status_code == 200
    assert b"/account/logout" not in response.data


def test_hashed_static_files_are_immutable_and_the_plain_url_is_short_lived(client, app, member):
    html = client.get("/about").get_data(as_text=True)
    hashed = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', html).group(1)
    long_lived = directives(client.get(hashed))
    assert long_lived["public"] and long_lived["max_age"] == 31536000 and "immutable" in long_lived["raw"]
    short = directives(client.get("/static/css/site.css"))
    assert short["public"] and 0 < short["max_age"] <= 600 and "immutable" not in short["raw"]
    # A signed-in member's stylesheet is the same file: still shared, and still no cookie.
    member_client = app.test_client()
    sign_in(member_client, member)
    response = member_client.get(hashed)
    assert directives(response)["public"] and "Set-Cookie" not in response.headers


def test_a_page_changed_through_a_related_page_is_not_answered_304_by_date(app_config, tmp_path):
    """The article lists its related pages' titles: when one is renamed, the article's bytes change
    though its own file does not, and a cache that revalidates by date alone must get the new page."""
    import os
    import shutil

    from ldnsite import create_app

    site = tmp_path / "site"
    shutil.copytree(ROOT / "site", site)
    client = create_app({**app_config, "CONTENT_DIR": str(site)}).test_client()
    first = client.get("/treatments/low-dose-naltrexone")
    related = site / "pacing.md"
    stamp = related.stat().st_mtime
    related.write_text(related.read_text().replace("title: Pacing", "title: Pacing your energy", 1))
    os.utime(related, (stamp, stamp))  # even with the old date on the renamed page's file
    second = client.get("/treatments/low-dose-naltrexone", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert second.status_code == 200
    assert b"Pacing your energy" in second.data
    assert second.last_modified > first.last_modified
