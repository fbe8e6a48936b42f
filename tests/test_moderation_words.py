"""Watched words: managed by moderators on /moderation/words, logged, and applied to titles, new posts and edits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ldnsite.db import get_session
from ldnsite.forum.models import Post, Topic
from tests.conftest import post_form
from tests.fixtures_forum import sign_in
from tests.fixtures_moderation import token

pytestmark = pytest.mark.both_databases


def text(response) -> str:
    return response.get_data(as_text=True)


def add_word(mod_client, phrase: str, action: str, message: str = ""):
    return mod_client.post(
        "/moderation/words",
        data={"csrf_token": token(mod_client), "phrase": phrase, "action": action, "message": message},
        follow_redirects=True,
    )


def latest(app, model):
    with app.app_context():
        session = get_session()
        row = session.scalars(select(model).order_by(model.id.desc())).first()
        session.expunge(row)
        return row


def count(app, model) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model))


@pytest.fixture
def writer(app, make_member):
    """A trusted member on a client of their own (the moderator has another)."""
    member = make_member("writer@example.com", "Wren Writer")
    client = app.test_client()
    sign_in(client, member)
    return member, client


def test_moderators_add_and_remove_watched_words_and_each_change_is_logged(mod_client, board, moderator):
    page = add_word(mod_client, "cheap ldn", "hold")
    assert "“cheap ldn” is now watched: hold for review." in text(page)
    assert "<td>cheap ldn</td>" in text(page)
    added = board.log(action="add_watched_word")
    assert len(added) == 1 and added[0].moderator_id == moderator.id and "cheap ldn" in added[0].reason
    again = add_word(mod_client, "Cheap  LDN!", "flag")
    assert "already watched. Nothing changed" in text(again)
    assert len(board.log(action="add_watched_word")) == 1
    log_page = text(mod_client.get("/moderation/log"))
    assert "Added watched word" in log_page and "cheap ldn" in log_page

    removed = mod_client.post(
        f"/moderation/words/{added[0].target_id}/remove", data={"csrf_token": token(mod_client)}, follow_redirects=True
    )
    assert "“cheap ldn” is no longer watched." in text(removed)
    assert "<td>cheap ldn</td>" not in text(removed)
    assert len(board.log(action="remove_watched_word")) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"phrase": "", "action": "hold"}, "Enter a word or phrase to watch"),
        ({"phrase": "!!!", "action": "hold"}, "at least one letter or number"),
        ({"phrase": "spam", "action": ""}, "Choose what happens when a post uses it"),
        ({"phrase": "spam", "action": "delete"}, "Choose what happens when a post uses it"),
        ({"phrase": "spam", "action": "refuse", "message": " "}, "because you chose Refuse"),
        ({"phrase": "x" * 101, "action": "hold"}, "100 characters or fewer"),
    ],
)
def test_bad_watched_words_are_refused_and_nothing_changes(mod_client, board, data, message):
    response = mod_client.post("/moderation/words", data={"csrf_token": token(mod_client), **data})
    assert response.status_code == 422
    assert message in text(response)
    assert board.log(action="add_watched_word") == []


def test_members_cannot_manage_watched_words(member_client):
    assert member_client.get("/moderation/words").status_code == 403


def test_a_hold_word_holds_a_trusted_members_reply_and_says_why_in_the_queue(app, mod_client, writer, make_topic):
    member, client = writer
    topic_id, _ = make_topic(member, title="Where to buy")
    add_word(mod_client, "pharmacy-direct", "hold")
    post_form(client, f"/forum/t/{topic_id}/reply", {"body": "My local pharmacy directed me to my GP."})
    assert latest(app, Post).status == "published"  # whole words only: "pharmacy directed" is not a match
    post_form(client, f"/forum/t/{topic_id}/reply", {"body": "Or PHARMACY  direct, cheaper."})
    held = latest(app, Post)
    assert held.status == "pending"
    assert "pharmacy-direct" in held.flag_reason
    queue = text(mod_client.get("/moderation/"))
    assert "Why it is here:" in queue and "Uses the watched word “pharmacy-direct” (hold for review)" in queue


def test_a_refuse_word_refuses_a_post_with_the_message_and_keeps_the_text(app, mod_client, writer, make_topic):
    member, client = writer
    topic_id, _ = make_topic(member)
    add_word(mod_client, "buy now", "refuse", "Please do not advertise in the forum.")
    before = count(app, Post)
    response = post_form(client, f"/forum/t/{topic_id}/reply", {"body": "Great stuff, BUY  now at my shop"})
    assert response.status_code == 422
    assert "Please do not advertise in the forum." in text(response)
    assert "Great stuff, BUY  now at my shop" in text(response)
    assert count(app, Post) == before


def test_watched_words_apply_to_titles(app, mod_client, writer):
    _, client = writer
    add_word(mod_client, "miracle cure", "refuse", "Please do not promise cures.")
    before = count(app, Topic)
    response = post_form(client, "/forum/new", {"title": "A miracle cure for ME/CFS", "body": "Read on."})
    assert response.status_code == 422 and "Please do not promise cures." in text(response)
    assert 'value="A miracle cure for ME/CFS"' in text(response)
    assert count(app, Topic) == before


def test_a_flag_word_publishes_and_puts_the_post_in_the_queue_until_dealt_with(app, mod_client, writer, make_topic):
    member, client = writer
    topic_id, _ = make_topic(member)
    add_word(mod_client, "detox", "flag")
    post_form(client, f"/forum/t/{topic_id}/reply", {"body": "I tried a detox first."})
    flagged = latest(app, Post)
    assert flagged.status == "published"
    queue = text(mod_client.get("/moderation/"))
    assert f'id="item-{flagged.id}"' in queue and "Flagged" in queue
    done = mod_client.post(f"/moderation/p/{flagged.id}/dismiss", data={"csrf_token": token(mod_client)}, follow_redirects=True)
    assert "Watched word flag cleared" in text(done)
    assert f'id="item-{flagged.id}"' not in text(mod_client.get("/moderation/"))


def test_edits_that_add_a_watched_word_are_held_or_refused(app, mod_client, writer, make_topic):
    member, client = writer
    _, post_id = make_topic(member, title="My routine")
    add_word(mod_client, "cheap ldn", "hold")
    add_word(mod_client, "buy now", "refuse", "No selling, please.")
    refused = post_form(client, f"/forum/p/{post_id}/edit", {"body": "Buy now!"})
    assert refused.status_code == 422 and "No selling, please." in text(refused)
    assert latest(app, Post).body_source != "Buy now!"
    post_form(client, f"/forum/p/{post_id}/edit", {"body": "My routine, and cheap LDN here."})
    with app.app_context():
        post = get_session().get(Post, post_id)
        assert post.status == "pending" and "cheap ldn" in post.flag_reason


def test_moderators_own_posts_are_not_checked(app, mod_client, make_topic, moderator):
    topic_id, _ = make_topic(moderator)
    add_word(mod_client, "buy now", "refuse", "No selling.")
    response = post_form(mod_client, f"/forum/t/{topic_id}/reply", {"body": "Reminder: no “buy now” posts, please."})
    assert response.status_code == 302
