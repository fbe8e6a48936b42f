"""A removed post disappears everywhere a post can appear, at once, and stays where it belongs:
in the log, and in its author's own view with the reason. The author is told by email."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ldnsite.db import get_session
from tests.fixtures_moderation import sign_in, token

pytestmark = pytest.mark.both_engines

SECRET = "Quokkaberry"  # a word nothing else on the site contains


@pytest.fixture
def app_config(app_config):
    # Replies publish at once (no holding of new members' posts), and mail waits in the queue
    # until flushed, so a test can see a notification that was queued but not yet sent.
    return {**app_config, "FORUM_HELD_FIRST_POSTS": 0, "MAIL_DELIVER_ON_COMMIT": False}


def flush_mail(app) -> None:
    result = app.test_cli_runner().invoke(args=["mail", "flush"])
    assert result.exit_code == 0, result.output


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def conversation(app, board, make_user):
    """Ann starts a topic; Ben replies through the forum, which queues a notification to Ann."""
    ann = make_user("ann@example.com", "Ann Author")
    ben = make_user("ben@example.com", "Ben Replier")
    topic_id, first = board.topic(ann, title="Vivid dreams on LDN")
    ben_client = app.test_client()
    sign_in(ben_client, ben)
    body = f"{SECRET} tea helps me sleep."
    response = ben_client.post(f"/forum/t/{topic_id}/reply", data={"csrf_token": token(ben_client), "body": body})
    assert response.status_code in (302, 303), response.status_code
    from ldnsite.forum.models import Post

    with app.app_context():
        reply = get_session().scalar(select(Post.id).where(Post.topic_id == topic_id, Post.author_id == ben.id))
    # Bring the index up to date as `flask index sync` does, so "before" is certain; what the
    # moderation actions do to the index is then checked on their own commits.
    result = app.test_cli_runner().invoke(args=["index", "sync"])
    assert result.exit_code == 0, result.output
    return {"ann": ann, "ben": ben, "ben_client": ben_client, "topic_id": topic_id, "first": first, "reply": reply}


def remove(client, post_id: int, reason: str, detail: str = ""):
    return client.post(
        f"/moderation/p/{post_id}/remove", data={"csrf_token": token(client), "reason": reason, "detail": detail}, follow_redirects=True
    )


def search_urls(client, q: str) -> list[str]:
    response = client.get(f"/search?q={q}&kind=forum&format=json")
    assert response.status_code == 200
    return [r["url"] for r in response.get_json()["results"]]


def test_removed_reply_disappears_everywhere_and_its_notification_is_cancelled(app, outbox, client, mod_client, conversation):
    c = conversation
    topic_url = f"/forum/t/{c['topic_id']}"
    # Before: visible on the topic page, counted in the list, found by search, notification queued.
    assert SECRET in client.get(topic_url).get_data(as_text=True)
    assert "2 posts" in client.get("/forum/").get_data(as_text=True)
    assert any(f"post-{c['reply']}" in url or url.startswith(topic_url) for url in search_urls(client, SECRET))
    from ldnsite.mail.models import OutboundMessage

    with app.app_context():
        [note] = get_session().scalars(select(OutboundMessage).where(OutboundMessage.dedupe_key.like(f"reply:{c['reply']}:%"))).all()
        assert note.sent_at is None and note.cancelled_at is None

    response = remove(mod_client, c["reply"], "Unsafe dosing or treatment advice", "Herbal teas can interact with medicines.")
    assert "Post removed." in response.get_data(as_text=True)

    # Gone for everyone else, at once.
    for viewer in (client, c["ben_client"]):
        page = viewer.get(topic_url).get_data(as_text=True)
        assert SECRET not in page
        assert "This post was removed by a moderator." in page
    assert "1 post " in client.get("/forum/").get_data(as_text=True)
    assert search_urls(client, SECRET) == []
    assert SECRET not in client.get("/feed.xml").get_data(as_text=True)
    with app.app_context():
        note = get_session().scalars(select(OutboundMessage).where(OutboundMessage.dedupe_key.like(f"reply:{c['reply']}:%"))).one()
        assert note.cancelled_at is not None and note.sent_at is None
    flush_mail(app)
    assert not any(SECRET in body_of(m) for m in outbox.to("ann@example.com"))

    # The author sees the reason on their own post, and gets an email saying why.
    own = c["ben_client"].get(topic_url).get_data(as_text=True)
    assert "Only you can see why it was removed" in own
    assert "Unsafe dosing or treatment advice: Herbal teas can interact with medicines." in own
    [notice] = outbox.to("ben@example.com")
    assert notice["Subject"] == "A moderator removed your post"
    assert "Herbal teas can interact with medicines." in body_of(notice)
    assert "List-Unsubscribe" in notice  # moderation notices are non-essential: the opt-out applies

    # And it is in the log.
    log = mod_client.get("/moderation/log?action=remove").get_data(as_text=True)
    assert "Unsafe dosing or treatment advice: Herbal teas can interact with medicines." in log


def test_removing_the_first_post_takes_the_topic_out_of_lists_sitemap_and_search(app, client, mod_client, conversation):
    c = conversation
    topic_url = f"/forum/t/{c['topic_id']}"
    assert topic_url in client.get("/sitemap.xml").get_data(as_text=True)
    assert "Vivid dreams on LDN" in client.get("/forum/").get_data(as_text=True)
    assert "Vivid dreams on LDN" in client.get("/").get_data(as_text=True)
    remove(mod_client, c["first"], "Off-topic")
    assert topic_url not in client.get("/sitemap.xml").get_data(as_text=True)
    assert "Vivid dreams on LDN" not in client.get("/forum/").get_data(as_text=True)
    assert "Vivid dreams on LDN" not in client.get("/").get_data(as_text=True)
    assert client.get(topic_url).status_code == 404
    assert search_urls(client, SECRET) == []  # the replies went with the topic
    from ldnsite.mail.models import OutboundMessage

    with app.app_context():
        note = get_session().scalars(select(OutboundMessage).where(OutboundMessage.dedupe_key.like(f"reply:{c['reply']}:%"))).one()
        assert note.cancelled_at is not None  # the reply's notification about a removed topic is not sent
    # Moderators still reach it, with a way back.
    page = mod_client.get(topic_url).get_data(as_text=True)
    assert "This topic was removed by a moderator" in page and f'action="/moderation/p/{c["first"]}/restore"' in page


def test_restore_brings_a_post_back_everywhere(app, outbox, client, mod_client, conversation):
    c = conversation
    remove(mod_client, c["reply"], "Off-topic")
    mod_client.post(f"/moderation/p/{c['reply']}/restore", data={"csrf_token": token(mod_client)})
    assert SECRET in client.get(f"/forum/t/{c['topic_id']}").get_data(as_text=True)
    assert "2 posts" in client.get("/forum/").get_data(as_text=True)
    assert search_urls(client, SECRET) != []
    flush_mail(app)
    assert any(m["Subject"] == "A moderator restored your post" for m in outbox.to("ben@example.com"))


def test_an_opted_out_author_gets_no_email_but_still_sees_the_reason(app, outbox, mod_client, conversation):
    from ldnsite.mail.suppression import suppress

    with app.app_context():
        suppress(get_session(), "ben@example.com")
        get_session().commit()
    remove(mod_client, conversation["reply"], "Spam or advertising")
    flush_mail(app)
    assert outbox.to("ben@example.com") == []
    assert "Spam or advertising" in conversation["ben_client"].get(f"/forum/t/{conversation['topic_id']}").get_data(as_text=True)


def test_approving_a_held_reply_sends_the_reply_notification(app, outbox, mod_client, board, make_user):
    ann = make_user("ann@example.com", "Ann Author")
    ben = make_user("ben@example.com", "Ben Replier")
    topic_id, _ = board.topic(ann)
    held = board.reply(topic_id, ben, body="Held reply", status="pending")
    mod_client.post(f"/moderation/p/{held}/approve", data={"csrf_token": token(mod_client)})
    flush_mail(app)
    assert any(m["To"] == "ann@example.com" and "Held reply" in body_of(m) for m in outbox.messages())
