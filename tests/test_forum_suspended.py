"""A suspended member sees, where the posting buttons were, a notice with the end date, the reason and how to appeal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ldnsite.db import get_session, utcnow
from tests.conftest import post_form
from tests.fixtures_forum import sign_in


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def suspend(app, moderator):
    from ldnsite.accounts.models import Suspension

    def make(user, reason: str, days: int | None, created_days_ago: int = 0) -> None:
        with app.app_context():
            session = get_session()
            now = utcnow() - timedelta(days=created_days_ago)
            session.add(
                Suspension(
                    user_id=user.id,
                    moderator_id=moderator.id,
                    reason=reason,
                    created_at=now,
                    ends_at=now + timedelta(days=days) if days else None,
                )
            )
            session.commit()

    return make


def test_the_forum_shows_the_notice_instead_of_the_new_topic_button(client, make_member, suspend):
    member = make_member()
    suspend(member, "Selling medicines in three topics.", 7)
    sign_in(client, member)
    page = text(client.get("/forum/"))
    assert "Start a new topic" not in page
    assert "Your account is suspended" in page
    assert "Selling medicines in three topics." in page
    until = (utcnow() + timedelta(days=7)).strftime("%-d %B %Y")
    assert until in page
    assert 'href="/forum/rules#appeal"' in page


def test_posting_forms_show_the_notice_with_403(client, make_member, make_user, make_topic, suspend):
    member = make_member()
    topic_id, post_id = make_topic(make_user("other@example.com", "Other"))
    suspend(member, "Unkind replies.", 1)
    sign_in(client, member)
    for url in ("/forum/new", f"/forum/t/{topic_id}/reply", f"/forum/p/{post_id}/report"):
        response = client.get(url)
        assert response.status_code == 403
        assert "Unkind replies." in text(response) and 'href="/forum/rules#appeal"' in text(response)
    topic_page = text(client.get(f"/forum/t/{topic_id}"))
    assert "Your account is suspended" in topic_page and 'name="body"' not in topic_page
    assert post_form(client, "/forum/new", {"title": "Still here", "body": "x"}, form_page="/forum/").status_code == 403


def test_the_forum_and_moderation_agree_on_which_suspension_applies(client, app, make_member, mod_client, suspend):
    """Two suspensions in force: the indefinite one, though older, is the one that ends last."""
    member = make_member()
    suspend(member, "Indefinite: threats.", None, created_days_ago=2)
    suspend(member, "A week: spam.", 7)
    sign_in(client, member)
    forum = text(client.get("/forum/"))
    assert "Indefinite: threats." in forum and "until a moderator lifts the suspension" in forum
    assert "A week: spam." not in forum
    refusal = text(client.get("/forum/new"))
    assert "Indefinite: threats." in refusal
    member_page = text(mod_client.get(f"/moderation/u/{member.id}"))
    assert "suspended now)" in member_page  # no end date: the indefinite suspension


def test_members_who_are_not_suspended_see_the_button(client, make_member):
    sign_in(client, make_member())
    page = text(client.get("/forum/"))
    assert "Start a new topic" in page and "Your account is suspended" not in page
