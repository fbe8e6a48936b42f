"""Abuse controls reproduced over HTTP: cheap trust, edits into spam, costly previews,
a blocked "Discuss this article", look-alike staff names and invisible characters in titles."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ldnsite.forum.models import Post, Topic
from tests.conftest import post_form
from tests.fixtures_forum import sign_in

pytestmark = pytest.mark.both_databases

SLUG = "low-dose-naltrexone"


def text(response) -> str:
    return response.get_data(as_text=True)


def fresh(db, model, ident):
    db.rollback()
    return db.get(model, ident)


def newest_post(db) -> Post:
    db.rollback()
    return db.scalars(select(Post).order_by(Post.id.desc())).first()


# ---- trust comes from approved posts only ---------------------------------------------------


def test_removed_throwaway_posts_do_not_unlock_unreviewed_links(client, db, make_user, make_topic, make_post):
    spammer = make_user("spam@example.com", "Quick Seller")
    topic_id, _ = make_topic(spammer, title="Hello everyone", status="published")
    make_post(topic_id, spammer, "Buy now", status="removed", removal_reason="Spam or advertising")
    make_post(topic_id, spammer, "Buy again", status="removed", removal_reason="Spam or advertising")
    sign_in(client, spammer)
    response = post_form(client, f"/forum/t/{topic_id}/reply", {"body": "Cheap pills at https://pills.example"})
    assert response.status_code == 302
    assert newest_post(db).status == "pending"
    assert "waiting for a moderator" in text(client.get(response.headers["Location"]))


def test_held_posts_never_approved_do_not_earn_trust(client, db, make_user, make_topic, make_post):
    member = make_user("new@example.com", "New Person")
    topic_id, _ = make_topic(member, title="My first question", status="pending")
    make_post(topic_id, member, "Second try", status="pending")
    make_post(topic_id, member, "Third try", status="pending")
    other_topic, _ = make_topic(make_user("old@example.com", "Old Hand"), title="An open topic")
    sign_in(client, member)
    assert post_form(client, f"/forum/t/{other_topic}/reply", {"body": "A plain reply"}).status_code == 302
    assert newest_post(db).status == "pending"


def test_members_with_three_approved_posts_post_at_once(client, db, make_member, make_topic):
    member = make_member()
    topic_id, _ = make_topic(member, title="Another topic")
    sign_in(client, member)
    post_form(client, f"/forum/t/{topic_id}/reply", {"body": "See https://www.nhs.uk for more"})
    assert newest_post(db).status == "published"


def test_an_approved_post_edited_to_add_a_link_is_held_again(client, db, make_user, make_topic, make_post):
    member = make_user("new@example.com", "New Person")
    other = make_user("other@example.com", "Other Person")
    topic_id, _ = make_topic(other, title="Sleep and LDN")
    post_id = make_post(topic_id, member, "Vivid dreams for a week, then fine.")  # approved by a moderator
    sign_in(client, member)
    response = post_form(client, f"/forum/p/{post_id}/edit", {"body": "Vivid dreams for a week. [Cheap LDN here](https://pills.example)"})
    assert response.status_code == 302
    post = fresh(db, Post, post_id)
    assert post.status == "pending"
    assert "pills.example" in post.body_source
    page = text(client.get(response.headers["Location"]))
    assert "waiting for a moderator again" in page
    sign_in(client, other)
    assert "pills.example" not in text(client.get(f"/forum/t/{topic_id}"))


def test_an_edit_of_a_first_post_that_adds_a_link_holds_the_topic(client, db, make_user, make_topic):
    member = make_user("new@example.com", "New Person")
    topic_id, post_id = make_topic(member, title="Dosing question")
    sign_in(client, member)
    post_form(client, f"/forum/p/{post_id}/edit", {"body": "Now with https://pills.example"})
    assert fresh(db, Topic, topic_id).status == "pending"
    sign_in(client, None)
    assert client.get(f"/forum/t/{topic_id}").status_code == 404


def test_a_trusted_member_may_edit_a_link_in(client, db, make_member, make_topic):
    member = make_member()
    _, post_id = make_topic(member, title="Where to read more")
    sign_in(client, member)
    post_form(client, f"/forum/p/{post_id}/edit", {"body": "The NHS page: https://www.nhs.uk"})
    assert fresh(db, Post, post_id).status == "published"


# ---- previews ------------------------------------------------------------------------------


def test_an_over_long_preview_is_refused_before_it_is_rendered(client, db, make_member, make_topic, monkeypatch):
    member = make_member()
    topic_id, _ = make_topic(member)
    sign_in(client, member)
    rendered = []
    import ldnsite.forum.routes as routes

    real = routes.render_post
    monkeypatch.setattr(routes, "render_post", lambda body: rendered.append(len(body)) or real(body))
    response = post_form(client, f"/forum/t/{topic_id}/reply", {"body": "**x** " * 10_000, "preview": "preview"})
    assert response.status_code == 422
    assert "10,000 characters or fewer" in text(response)
    assert 'class="forum-preview"' not in text(response)
    assert rendered == []


# ---- "Discuss this article" ----------------------------------------------------------------


@pytest.mark.parametrize("blocking_status", ["pending", "removed"])
def test_a_held_or_removed_discussion_does_not_block_the_page(client, db, make_user, make_topic, make_member, blocking_status):
    squatter = make_user("squat@example.com", "Squatter")
    make_topic(squatter, title="Discussing: LDN", body="spam", status=blocking_status, page_slug=SLUG)
    member = make_member()
    sign_in(client, member)
    response = client.get(f"/forum/discuss/{SLUG}")
    assert response.status_code == 302 and response.headers["Location"] == f"/forum/new?page_slug={SLUG}"
    created = post_form(
        client, f"/forum/new?page_slug={SLUG}", {"title": "Discussing: LDN", "body": "What did you make of this page?", "page_slug": SLUG}
    )
    assert created.status_code == 302
    db.rollback()
    published = db.scalars(select(Topic).where(Topic.page_slug == SLUG, Topic.status == "published")).one()
    assert created.headers["Location"] == f"/forum/t/{published.id}"
    assert client.get(f"/forum/discuss/{SLUG}").headers["Location"] == f"/forum/t/{published.id}"


def test_approving_a_held_discussion_after_another_took_the_page_keeps_both(client, db, make_user, make_topic, moderator, board):
    from ldnsite.moderation import actions

    held_topic, held_post = make_topic(
        make_user("slow@example.com", "Slow Writer"), title="Discussing: LDN first", status="pending", page_slug=SLUG
    )
    live_topic, _ = make_topic(make_user("fast@example.com", "Fast Writer"), title="Discussing: LDN", page_slug=SLUG)
    outcome = actions.approve_post(db, db.get(Post, held_post), db.merge(moderator))
    assert outcome.changed
    assert fresh(db, Topic, held_topic).status == "published"
    assert fresh(db, Topic, held_topic).page_slug is None
    assert client.get(f"/forum/discuss/{SLUG}").headers["Location"] == f"/forum/t/{live_topic}"


# ---- names and titles ----------------------------------------------------------------------


def test_invisible_characters_are_stripped_from_titles(client, db, make_member):
    sign_in(client, make_member())
    response = post_form(client, "/forum/new", {"title": "Sleep\u202e on\u200b LDN\x07 ", "body": "Any tips?"})
    assert response.status_code == 302
    db.rollback()
    assert db.scalars(select(Topic.title).order_by(Topic.id.desc())).first() == "Sleep on LDN"
