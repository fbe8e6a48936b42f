"""The forum rules page, and every place a member needs it links to it."""

from __future__ import annotations

import pytest

from tests.conftest import post_form
from tests.fixtures_forum import sign_in
from tests.fixtures_mail import html_body, text_body
from tests.fixtures_moderation import token


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_rules_page_covers_what_members_need_in_plain_words(client):
    response = client.get("/forum/rules")
    assert response.status_code == 200
    page = text(response)
    for heading in (
        "Be kind",
        "Keep personal information private",
        "No selling or advertising",
        "Medical claims and dosing advice",
        "If you or someone else may be at risk",
        "What moderators do",
        "How to appeal",
    ):
        assert f">{heading}</h2>" in page
    for number in ("116 123", "999", "NHS 111", "Outside the UK, call your local emergency number"):
        assert number in page
    assert "watched" in page


@pytest.mark.parametrize("url", ["/forum/", "/account/register"])
def test_the_forum_and_registration_link_to_the_rules(client, url):
    assert 'href="/forum/rules"' in text(client.get(url))


def test_the_new_topic_page_links_to_the_rules(client, make_member):
    sign_in(client, make_member())
    assert 'href="/forum/rules"' in text(client.get("/forum/new"))


def test_removal_and_suspension_emails_link_to_the_rules_and_the_appeal(app, mod_client, board, member, outbox):
    topic_id, _ = board.topic(member)
    reply = board.reply(topic_id, member)
    mod_client.post(f"/moderation/p/{reply}/remove", data={"csrf_token": token(mod_client), "reason": "Off-topic"})
    mod_client.post(f"/moderation/u/{member.id}/suspend", data={"csrf_token": token(mod_client), "reason": "Repeated spam", "period": "7"})
    messages = outbox.to(member.email)
    assert len(messages) == 2
    for message in messages:
        assert "http://localhost/forum/rules#appeal" in text_body(message)
        assert 'href="http://localhost/forum/rules"' in html_body(message)


def test_the_suspension_refusal_points_to_the_appeal(client, app, board, member, moderator, mod_client):
    mod_client.post(f"/moderation/u/{member.id}/suspend", data={"csrf_token": token(mod_client), "reason": "Repeated spam", "period": "7"})
    sign_in(client, member)
    topic_id, _ = board.topic(moderator)
    response = post_form(client, f"/forum/t/{topic_id}/reply", {"body": "Hello"}, form_page=f"/forum/t/{topic_id}")
    assert response.status_code == 403
    assert "/forum/rules#appeal" in text(response)
