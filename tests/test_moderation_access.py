"""Who may use moderation: anonymous visitors sign in first, members are refused, moderators and admins get in."""

from __future__ import annotations

import pytest

from tests.fixtures_moderation import sign_in, token

PAGES = ["/moderation/", "/moderation/log", "/moderation/users"]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")
    assert "next=" in response.headers["Location"]


@pytest.mark.parametrize("url", PAGES)
def test_members_are_refused(member_client, url):
    response = member_client.get(url)
    assert response.status_code == 403
    assert "You do not have permission" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", PAGES)
def test_moderators_and_admins_get_in(app, mod_client, admin, url):
    assert mod_client.get(url).status_code == 200
    admin_client = app.test_client()
    sign_in(admin_client, admin)
    assert admin_client.get(url).status_code == 200


def test_member_posting_to_every_action_is_refused_and_changes_nothing(member_client, board, member, moderator):
    topic_id, first = board.topic(member)
    held = board.reply(topic_id, member, status="pending")
    csrf = token(member_client)
    actions = [
        (f"/moderation/p/{first}/remove", {"reason": "Spam or advertising"}),
        (f"/moderation/p/{held}/approve", {}),
        (f"/moderation/p/{first}/restore", {}),
        (f"/moderation/p/{first}/dismiss", {}),
        (f"/moderation/t/{topic_id}/lock", {}),
        (f"/moderation/t/{topic_id}/unlock", {}),
        (f"/moderation/u/{moderator.id}/suspend", {"reason": "no", "period": "1"}),
        (f"/moderation/u/{moderator.id}/lift", {}),
        (f"/moderation/u/{member.id}/role", {"role": "admin"}),
    ]
    for url, data in actions:
        response = member_client.post(url, data={"csrf_token": csrf, **data})
        assert response.status_code == 403, url
    assert board.post(first).status == "published"
    assert board.post(held).status == "pending"
    assert board.topic_row(topic_id).locked_at is None
    assert board.log() == []


def test_moderator_cannot_change_roles(mod_client, member, board):
    response = mod_client.post(f"/moderation/u/{member.id}/role", data={"csrf_token": token(mod_client), "role": "moderator"})
    assert response.status_code == 403
    assert board.log() == []


def test_anonymous_post_to_an_action_changes_nothing(client, board, member):
    _, first = board.topic(member)
    response = client.post(f"/moderation/p/{first}/remove", data={"reason": "Spam or advertising"})
    assert response.status_code in (302, 400)  # CSRF refuses first: there is no session to carry a token
    assert board.post(first).status == "published"


def test_a_post_without_a_csrf_token_is_refused(mod_client, board, member):
    _, first = board.topic(member)
    response = mod_client.post(f"/moderation/p/{first}/remove", data={"reason": "Spam or advertising"})
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert board.post(first).status == "published"
    assert board.log() == []


@pytest.mark.parametrize(
    "url",
    [
        "/moderation/p/999/remove",
        "/moderation/p/999/approve",
        "/moderation/p/999/restore",
        "/moderation/p/999/dismiss",
        "/moderation/t/999/lock",
        "/moderation/t/999/unlock",
        "/moderation/u/999/suspend",
        "/moderation/u/999/lift",
    ],
)
def test_unknown_ids_are_404(mod_client, url):
    assert mod_client.post(url, data={"csrf_token": token(mod_client), "reason": "Off-topic", "period": "1"}).status_code == 404


@pytest.mark.parametrize("url", ["/moderation/p/999/remove", "/moderation/u/999"])
def test_unknown_pages_are_404(mod_client, url):
    assert mod_client.get(url).status_code == 404


def test_the_site_navigation_shows_moderation_to_moderators_only(mod_client, member_client):
    assert 'href="/moderation/"' in mod_client.get("/").get_data(as_text=True)
    assert 'href="/moderation/"' not in member_client.get("/").get_data(as_text=True)
