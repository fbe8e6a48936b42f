"""Rate limits on posting and reporting: per member, only successful submissions count."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ldnsite.db import get_session
from ldnsite.forum.models import Post, Report
from tests.conftest import post_form
from tests.fixtures_forum import sign_in

pytestmark = pytest.mark.both_databases


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "FORUM_POST_RATE_LIMIT": "2 per hour",
        "FORUM_REPORT_RATE_LIMIT": "1 per hour",
        "FORUM_PREVIEW_RATE_LIMIT": "4 per hour",
    }


def count(app, model) -> int:
    """Counted in a context of its own: these tests use two clients, so they keep no app context open."""
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model))


def test_posting_is_limited_per_member_and_previews_do_not_count(client, app, make_member, make_topic):
    alice = make_member("alice@example.com", "Alice")
    bob = make_member("bob@example.com", "Bob")
    topic_id, _ = make_topic(alice)
    sign_in(client, alice)
    url = f"/forum/t/{topic_id}/reply"
    for n in range(3):
        assert post_form(client, url, {"body": f"draft {n}", "preview": "preview"}).status_code == 200
    assert post_form(client, url, {"body": "first"}).status_code == 302
    assert post_form(client, "/forum/new", {"title": "Second one", "body": "second"}).status_code == 302
    before = count(app, Post)
    refused = post_form(client, url, {"body": "third"})
    assert refused.status_code == 429
    assert "You have posted a lot in a short time" in refused.get_data(as_text=True)
    assert count(app, Post) == before

    other = app.test_client()  # same address, another member: not affected
    sign_in(other, bob)
    assert post_form(other, url, {"body": "bob's reply"}).status_code == 302


def test_previews_are_limited_without_blocking_posting(client, app, make_member, make_topic):
    member = make_member()
    topic_id, _ = make_topic(member)
    sign_in(client, member)
    url = f"/forum/t/{topic_id}/reply"
    for n in range(4):
        assert post_form(client, url, {"body": f"draft {n}", "preview": "preview"}).status_code == 200
    refused = post_form(client, url, {"body": "draft 5", "preview": "preview"})
    assert refused.status_code == 429
    assert "a lot of previews" in refused.get_data(as_text=True)
    assert post_form(client, url, {"body": "posted after all"}).status_code == 302


def test_reporting_is_limited_per_member(client, app, make_member, make_user, make_topic):
    author = make_user("author@example.com", "Author")
    reporter = make_member("reporter@example.com", "Reporter")
    _, first = make_topic(author)
    _, second = make_topic(author, title="Another topic")
    sign_in(client, reporter)
    assert post_form(client, f"/forum/p/{first}/report", {"reason": "Spam."}).status_code == 302
    refused = post_form(client, f"/forum/p/{second}/report", {"reason": "Spam too."})
    assert refused.status_code == 429 and "a lot of reports" in refused.get_data(as_text=True)
    assert count(app, Report) == 1
