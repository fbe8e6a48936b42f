"""Reading the board: topic list, topic pages, visibility of held and removed posts, names, sitemap."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from ldnsite.db import utcnow
from tests.fixtures_forum import sign_in

pytestmark = pytest.mark.both_databases


def text(response) -> str:
    return response.get_data(as_text=True)


def test_empty_board_invites_a_first_topic(client):
    response = client.get("/forum/")
    assert response.status_code == 200
    assert "No topics yet" in text(response)
    assert 'href="/forum/new"' in text(response)


def test_topics_are_listed_latest_activity_first_with_published_post_counts(client, make_user, make_topic, make_post):
    alice = make_user("alice@example.com", "Alice")
    bob = make_user("bob@example.com", "Bob")
    old_id, _ = make_topic(alice, title="Older topic here", at=utcnow() - timedelta(days=2))
    make_topic(bob, title="Newer topic here", at=utcnow() - timedelta(days=1))
    make_post(old_id, bob, "A fresh reply bumps the old topic.")
    make_post(old_id, bob, "Held reply.", status="pending")
    make_post(old_id, bob, "Removed reply.", status="removed")

    page = text(client.get("/forum/"))
    assert page.index("Older topic here") < page.index("Newer topic here")
    older_item = page[page.index("Older topic here") : page.index("Newer topic here")]
    assert "2 posts" in older_item  # first post + published reply; held and removed ones do not count
    assert "1 post" in page[page.index("Newer topic here") :]


def test_topic_list_is_paginated_twenty_a_page(client, make_user, make_topic):
    alice = make_user()
    base = utcnow() - timedelta(hours=1)
    for n in range(21):
        make_topic(alice, title=f"Numbered topic {n:02d}", at=base + timedelta(minutes=n))
    first = text(client.get("/forum/"))
    assert len(re.findall(r"Numbered topic \d\d", first)) == 20
    assert "Numbered topic 20" in first and "Numbered topic 00" not in first
    assert "Page 1 of 2" in first and 'href="/forum/?page=2"' in first
    second = text(client.get("/forum/?page=2"))
    assert re.findall(r"Numbered topic \d\d", second) == ["Numbered topic 00"]
    assert client.get("/forum/?page=3").status_code == 404


def test_removed_topics_are_hidden_from_members_and_marked_for_moderators(client, make_user, make_topic):
    alice = make_user()
    mod = make_user("mod@example.com", "Moderator Mo", role="moderator")
    removed_id, _ = make_topic(alice, title="Removed topic title", status="removed")
    make_topic(alice, title="Locked topic title", locked=True)

    sign_in(client, alice)
    page = text(client.get("/forum/"))
    assert "Removed topic title" not in page
    assert re.search(r"Locked topic title</a>\s*<strong[^>]*>Locked</strong>", page)
    assert "A moderator removed this topic" in text(client.get(f"/forum/t/{removed_id}"))  # its author may look
    sign_in(client, make_user("bob@example.com", "Bob"))
    assert client.get(f"/forum/t/{removed_id}").status_code == 404

    sign_in(client, mod)
    page = text(client.get("/forum/"))
    assert re.search(r"Removed topic title</a>\s*<strong[^>]*>Removed</strong>", page)
    assert client.get(f"/forum/t/{removed_id}").status_code == 200


def test_topic_page_shows_posts_in_order_with_the_safety_notice(client, make_user, make_topic, make_post):
    alice = make_user()
    topic_id, _ = make_topic(alice, body="First words.")
    make_post(topic_id, alice, "Second words.")
    make_post(topic_id, alice, "Third words.")
    page = text(client.get(f"/forum/t/{topic_id}"))
    assert page.index("First words.") < page.index("Second words.") < page.index("Third words.")
    assert "not reviewed by doctors or other clinicians" in page
    assert "999" in page and "NHS 111" in page and "Samaritans" in page and "116 123" in page
    assert page.count("<h1") == 1


def test_topic_pages_hold_twenty_posts_each_and_find_a_post_by_id(client, make_user, make_topic, make_post):
    alice = make_user()
    topic_id, _ = make_topic(alice, body="Post number 00")
    ids = [make_post(topic_id, alice, f"Post number {n:02d}") for n in range(1, 25)]
    first = text(client.get(f"/forum/t/{topic_id}"))
    assert len(re.findall(r"Post number \d\d", first)) == 20
    second = text(client.get(f"/forum/t/{topic_id}?page=2"))
    assert re.findall(r"Post number \d\d", second) == [f"Post number {n}" for n in range(20, 25)]
    assert client.get(f"/forum/t/{topic_id}?page=3").status_code == 404
    # A link to a post lands on the page that holds it.
    assert "Post number 22" in text(client.get(f"/forum/t/{topic_id}?post={ids[21]}"))


@pytest.mark.parametrize("page", ["x", "0", "-1", "2.5", ""])
def test_a_page_number_that_is_not_a_whole_number_from_one_is_refused_on_every_list(client, make_user, make_topic, mod_client, page):
    """The forum and moderation lists share one rule (ldnsite.paging): 400 with the reason, not a guessed page."""
    topic_id, _ = make_topic(make_user())
    for url in ("/forum/", f"/forum/t/{topic_id}", "/moderation/", "/moderation/log", "/moderation/users"):
        response = (mod_client if url.startswith("/moderation") else client).get(f"{url}?page={page}")
        assert response.status_code == 400, url
        assert "The page number must be a whole number, 1 or more." in response.get_data(as_text=True), url


def test_unknown_topic_is_404(client):
    assert client.get("/forum/t/999").status_code == 404
    assert client.get("/forum/t/not-a-number").status_code == 404


def test_removed_post_shows_a_placeholder_instead_of_its_text(client, make_user, make_topic, make_post):
    alice = make_user()
    topic_id, _ = make_topic(alice)
    make_post(topic_id, alice, "Buy cheap pills here", status="removed", removal_reason="spam")
    page = text(client.get(f"/forum/t/{topic_id}"))
    assert "This post was removed by a moderator." in page
    assert "Buy cheap pills here" not in page


def test_pending_post_is_seen_only_by_its_author_and_moderators(client, make_user, make_topic, make_post):
    alice = make_user("alice@example.com", "Alice")
    newbie = make_user("new@example.com", "Newbie")
    mod = make_user("mod@example.com", "Mo", role="moderator")
    topic_id, _ = make_topic(alice)
    make_post(topic_id, newbie, "My first ever reply", status="pending")

    assert "My first ever reply" not in text(client.get(f"/forum/t/{topic_id}"))
    sign_in(client, alice)
    assert "My first ever reply" not in text(client.get(f"/forum/t/{topic_id}"))
    sign_in(client, newbie)
    page = text(client.get(f"/forum/t/{topic_id}"))
    assert "My first ever reply" in page and "waiting for a moderator" in page
    sign_in(client, mod)
    page = text(client.get(f"/forum/t/{topic_id}"))
    assert "My first ever reply" in page and "waiting for a moderator" in page


def test_pending_topic_is_hidden_from_everyone_but_its_author_and_moderators(client, make_user, make_topic):
    newbie = make_user("new@example.com", "Newbie")
    other = make_user("other@example.com", "Other")
    topic_id, _ = make_topic(newbie, title="Held topic title", status="pending")
    assert "Held topic title" not in text(client.get("/forum/"))
    assert client.get(f"/forum/t/{topic_id}").status_code == 404
    sign_in(client, other)
    assert client.get(f"/forum/t/{topic_id}").status_code == 404
    sign_in(client, newbie)
    response = client.get(f"/forum/t/{topic_id}")
    assert response.status_code == 200 and "waiting for a moderator" in text(response)


def test_public_pages_show_display_names_never_email_addresses(client, make_user, make_topic, make_post):
    alice = make_user("alice.private@example.com", "Alice")
    topic_id, _ = make_topic(alice)
    make_post(topic_id, alice)
    for url in ("/forum/", f"/forum/t/{topic_id}", "/"):
        page = text(client.get(url))
        assert "alice.private@example.com" not in page
    assert "Alice" in text(client.get(f"/forum/t/{topic_id}"))


def test_posts_of_deleted_members_show_deleted_member(app, client, db, make_user, make_topic):
    from ldnsite.accounts.models import User

    gone = make_user("gone@example.com", "Gone Person")
    topic_id, _ = make_topic(gone, title="A topic by someone who left")
    user = db.get(User, gone.id)
    user.deleted_at, user.email, user.display_name = utcnow(), None, "Deleted member"
    db.commit()
    user.display_name = "Gone Person"  # even a name left behind is never shown once deleted_at is set
    db.commit()
    for url in ("/forum/", f"/forum/t/{topic_id}"):
        page = text(client.get(url))
        assert "Deleted member" in page and "Gone Person" not in page


def test_home_page_and_sitemap_list_published_topics_only(client, make_user, make_topic):
    alice = make_user()
    shown_id, _ = make_topic(alice, title="Published topic title")
    held_id, _ = make_topic(alice, title="Held topic title", status="pending")
    removed_id, _ = make_topic(alice, title="Removed topic title", status="removed")
    home = text(client.get("/"))
    assert "Published topic title" in home
    assert "Held topic title" not in home and "Removed topic title" not in home
    sitemap = text(client.get("/sitemap.xml"))
    assert f"/forum/t/{shown_id}</loc>" in sitemap
    assert f"/forum/t/{held_id}</loc>" not in sitemap and f"/forum/t/{removed_id}</loc>" not in sitemap


def test_moderators_get_the_moderation_controls_in_the_topic_page(client, make_user, make_topic):
    """The topic page includes moderation's controls near the heading and in each post; members never see them."""
    alice = make_user()
    mod = make_user("mod@example.com", "Mo", role="moderator")
    topic_id, post_id = make_topic(alice)
    sign_in(client, alice)
    assert f"/moderation/p/{post_id}/remove" not in text(client.get(f"/forum/t/{topic_id}"))
    sign_in(client, mod)
    assert f"/moderation/p/{post_id}/remove" in text(client.get(f"/forum/t/{topic_id}"))
