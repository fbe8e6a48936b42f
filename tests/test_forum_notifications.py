"""Reply notifications: followers of a topic (its author from the start) hear of replies by email, unless they
turned them off, stopped following, or opted out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ldnsite.accounts.models import User
from ldnsite.forum.models import Post
from ldnsite.mail.models import OutboundMessage
from tests.conftest import post_form
from tests.fixtures_forum import sign_in
from tests.fixtures_mail import text_body

pytestmark = pytest.mark.both_databases


def reply(client, topic_id: int, body: str):
    response = post_form(client, f"/forum/t/{topic_id}/reply", {"body": body})
    assert response.status_code == 302
    return response


def test_topic_author_gets_one_email_per_reply_with_a_link_and_no_other_members_address(
    client, db, outbox, make_member, make_user, make_topic
):
    author = make_user("author@example.com", "Author")
    replier = make_member("replier.private@example.com", "Replier")
    topic_id, _ = make_topic(author, title="Night sweats on LDN")
    sign_in(client, replier)
    reply(client, topic_id, "They stopped after a *fortnight* for me.")

    messages = outbox.to("author@example.com")
    assert len(messages) == 1
    message = messages[0]
    assert "Night sweats on LDN" in str(message["Subject"])
    body = text_body(message)
    assert "Replier" in body and "They stopped after a *fortnight* for me." in body
    post = db.scalars(select(Post).where(Post.author_id == replier.id).order_by(Post.id.desc())).first()
    assert f"/forum/t/{topic_id}?post={post.id}#post-{post.id}" in body
    assert "replier.private@example.com" not in message.as_string()
    assert db.scalars(select(OutboundMessage.dedupe_key)).all() == [f"reply:{post.id}:{author.id}"]
    assert len(outbox.to("replier.private@example.com")) == 0  # never the post's own author


def test_no_email_when_the_author_replies_in_their_own_topic(client, outbox, make_member, make_topic):
    author = make_member()
    topic_id, _ = make_topic(author)
    sign_in(client, author)
    reply(client, topic_id, "An update on my own topic.")
    assert len(outbox) == 0


def test_no_email_when_notifications_are_turned_off(client, db, outbox, make_member, make_user, make_topic):
    author = make_user("author@example.com", "Author")
    user = db.get(User, author.id)
    user.notify_replies = False
    db.commit()
    topic_id, _ = make_topic(author)
    sign_in(client, make_member("replier@example.com", "Replier"))
    reply(client, topic_id, "Hello!")
    assert len(outbox) == 0


def test_no_email_to_an_address_that_opted_out(client, db, outbox, make_member, make_user, make_topic):
    from ldnsite.mail.suppression import suppress

    author = make_user("author@example.com", "Author")
    suppress(db, "author@example.com")
    db.commit()
    topic_id, _ = make_topic(author)
    sign_in(client, make_member("replier@example.com", "Replier"))
    reply(client, topic_id, "Hello!")
    assert len(outbox) == 0


def test_held_replies_send_nothing_until_approved_and_then_exactly_once(app, client, db, outbox, make_user, make_topic):
    from ldnsite.forum.notifications import notify_reply

    author = make_user("author@example.com", "Author")
    newbie = make_user("new@example.com", "Newbie")
    topic_id, _ = make_topic(author)
    sign_in(client, newbie)
    reply(client, topic_id, "My first reply.")
    assert len(outbox) == 0
    db.rollback()
    post = db.scalars(select(Post).where(Post.author_id == newbie.id)).one()
    assert post.status == "pending"
    assert notify_reply(db, post) == 0  # still held: nothing queued

    post.status = "published"  # what approval does; moderation then calls notify_reply
    assert notify_reply(db, post) == 1
    db.commit()
    assert notify_reply(db, post) == 0  # the dedupe key: approving twice mails once
    db.commit()
    assert len(outbox.to("author@example.com")) == 1


def _token_from(body: str) -> str:
    import re

    return re.search(r"/forum/unfollow/(\S+)", body).group(1)


def test_any_member_can_follow_a_topic_and_gets_reply_emails(app, client, outbox, make_member, make_user, make_topic):
    author = make_user("author@example.com", "Author")
    follower = make_member("follower@example.com", "Follower")
    replier = make_member("replier@example.com", "Replier")
    topic_id, _ = make_topic(author, title="Sleep on LDN")
    sign_in(client, follower)
    page = client.get(f"/forum/t/{topic_id}").get_data(as_text=True)
    assert "Follow this topic" in page
    response = post_form(client, f"/forum/t/{topic_id}/follow", {}, form_page=f"/forum/t/{topic_id}")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are following this topic" in page and "Stop following" in page
    sign_in(client, replier)
    reply(client, topic_id, "Week two was better.")
    assert len(outbox.to("author@example.com")) == 1
    messages = outbox.to("follower@example.com")
    assert len(messages) == 1
    body = text_body(messages[0])
    assert "replied to the topic" in body and "Stop emails about this topic: http://localhost/forum/unfollow/" in body
    assert "Stop all emails from us:" in body


def test_unfollowing_stops_the_emails(client, outbox, make_member, make_user, make_topic):
    author = make_member("author@example.com", "Author")
    topic_id, _ = make_topic(author)
    sign_in(client, author)
    assert "Stop following" in client.get(f"/forum/t/{topic_id}").get_data(as_text=True)  # the author follows by default
    post_form(client, f"/forum/t/{topic_id}/unfollow", {}, form_page=f"/forum/t/{topic_id}")
    sign_in(client, make_member("replier@example.com", "Replier"))
    reply(client, topic_id, "Hello!")
    assert len(outbox.to("author@example.com")) == 0


def test_the_per_topic_link_in_the_email_stops_that_topic_only(app, outbox, make_member, make_user, make_topic):
    author = make_user("author@example.com", "Author")
    first, _ = make_topic(author, title="First topic")
    second, _ = make_topic(author, title="Second topic")
    replier = app.test_client()
    sign_in(replier, make_member("replier@example.com", "Replier"))
    reply(replier, first, "One.")
    token = _token_from(text_body(outbox.to("author@example.com")[0]))
    anonymous = app.test_client()
    confirm = anonymous.get(f"/forum/unfollow/{token}")
    assert confirm.status_code == 200 and "First topic" in confirm.get_data(as_text=True)
    reply(replier, first, "Two, before the button.")
    assert len(outbox.to("author@example.com")) == 2  # GET changed nothing
    done = anonymous.post(f"/forum/unfollow/{token}")
    assert done.status_code == 200 and "You will not get emails about this topic" in done.get_data(as_text=True)
    reply(replier, first, "Three.")
    reply(replier, second, "In the other topic.")
    subjects = [str(m["Subject"]) for m in outbox.to("author@example.com")]
    assert len(subjects) == 3 and "Second topic" in subjects[-1]


def test_a_tampered_unfollow_link_changes_nothing(client):
    response = client.post("/forum/unfollow/not-a-token")
    assert response.status_code == 400 and "This link does not work" in response.get_data(as_text=True)
