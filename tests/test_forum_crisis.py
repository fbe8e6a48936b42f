"""Crisis support: a post that suggests someone may be at risk shows its writer support numbers at once
and goes first in the moderation queue marked urgent, whatever the writer's trust; the same for reports."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ldnsite.forum import crisis
from ldnsite.forum.models import Post
from tests.conftest import post_form
from tests.fixtures_forum import sign_in
from tests.fixtures_moderation import token

SUPPORT = ("116 123", "999", "NHS 111", "Outside the UK, call your local emergency number")


@pytest.mark.parametrize(
    "text",
    [
        "Some days I just want to end my life.",
        "I want to END   MY  life",
        "I don’t want to live like this any more",  # curly apostrophe
        "I dont see it. I do not want to live.",
        "There is no reason to live when the pain is this bad",
        "I've been thinking about killing myself",
        "kill\u200bmyself",  # a zero-width space between the words
        "Honestly? Suicidal, most nights.",
        "I keep wanting to hurt myself",
        "I can't go on",
        "Everyone would be better off without me.",
    ],
)
def test_phrases_that_suggest_risk_are_found(text):
    assert crisis.suggests_risk(text), text


@pytest.mark.parametrize(
    "text",
    [
        "I had to skill myself up on pacing",  # "kill myself" inside another word
        "This headache is killing me",  # an idiom, not about the writer's life
        "My lifelong pain got better on LDN",  # "life" inside "lifelong"
        "There is no reason to leave the group",  # one letter from "no reason to live"
        "The end of my life-changing first month",  # "end my life" is not there in order
        "Pacing helped me not overdo it",
        "I want to dye my hair",
        "",
    ],
)
def test_near_misses_are_not_matched(text):
    assert not crisis.suggests_risk(text), text


def test_every_phrase_in_the_list_matches_itself_and_the_list_is_not_empty():
    phrases = crisis.load_phrases()
    assert len(phrases) >= 20
    for phrase in phrases:
        assert crisis.suggests_risk(f"Lately {phrase}, honestly."), phrase


# ---- over HTTP -----------------------------------------------------------------------------


def text_of(response) -> str:
    return response.get_data(as_text=True)


def latest_post(app) -> Post:
    """Read in a context of its own: several clients here, and none may share a cached member through `g`."""
    from ldnsite.db import get_session

    with app.app_context():
        session = get_session()
        post = session.scalars(select(Post).order_by(Post.id.desc())).first()
        session.expunge(post)
        return post


@pytest.mark.both_databases
def test_a_trusted_members_crisis_reply_shows_support_and_is_first_in_the_queue(
    client, app, make_member, make_user, make_topic, board, mod_client
):
    member = make_member()
    other = make_user("other@example.com", "Other Person")
    topic_id, first = make_topic(other, title="Bad flare this week")
    board.report(first, member, "Old report")  # an older item already in the queue
    sign_in(client, member)
    response = post_form(client, f"/forum/t/{topic_id}/reply", {"body": "Honestly I see no reason to live any more."})
    post = latest_post(app)
    assert post.status == "published" and post.urgent_at is not None  # published at once: trusted
    page = text_of(client.get(response.headers["Location"]))
    article = page[page.index(f'id="post-{post.id}"') :]
    article = article[: article.index("</article>")]
    for number in SUPPORT:
        assert number in article
    sign_in(client, other)
    assert "please talk to someone now" not in text_of(client.get(f"/forum/t/{topic_id}"))  # only the writer sees it

    queue = text_of(mod_client.get("/moderation/"))
    assert queue.index(f'id="item-{post.id}"') < queue.index(f'id="item-{first}"')
    urgent_item = queue[queue.index(f'id="item-{post.id}"') : queue.index(f'id="item-{first}"')]
    assert "Urgent" in urgent_item and "Someone may be at risk" in urgent_item
    assert "Mark as dealt with" in urgent_item

    done = mod_client.post(f"/moderation/p/{post.id}/dismiss", data={"csrf_token": token(mod_client)}, follow_redirects=True)
    assert "Urgent mark cleared" in text_of(done)
    assert f'id="item-{post.id}"' not in text_of(mod_client.get("/moderation/"))
    assert board.post(post.id).status == "published"


@pytest.mark.both_databases
def test_a_held_new_members_crisis_topic_is_urgent_too(client, app, make_user, mod_client, board):
    newbie = make_user("new@example.com", "New Person")
    old = make_user("old@example.com", "Old Hand")
    _, older_held = board.topic(old, status="pending")
    sign_in(client, newbie)
    response = post_form(client, "/forum/new", {"title": "I want to die", "body": "Everything hurts."})
    assert response.status_code == 302
    post = latest_post(app)
    assert post.status == "pending" and post.urgent_at is not None
    assert "116 123" in text_of(client.get(response.headers["Location"]))
    queue = text_of(mod_client.get("/moderation/"))
    assert queue.index(f'id="item-{post.id}"') < queue.index(f'id="item-{older_held}"')


@pytest.mark.both_databases
def test_an_edit_that_adds_a_crisis_phrase_marks_the_post_urgent(client, app, make_member, make_topic):
    member = make_member()
    _, post_id = make_topic(member, title="Week three")
    sign_in(client, member)
    post_form(client, f"/forum/p/{post_id}/edit", {"body": "Week three. I keep thinking about ending it all."})
    assert latest_post(app).id == post_id and latest_post(app).urgent_at is not None


@pytest.mark.both_databases
def test_a_report_that_someone_may_be_at_risk_is_urgent_and_shows_the_reporter_what_to_do(
    client, make_member, make_user, make_topic, board, mod_client
):
    author = make_user("author@example.com", "Author")
    _, quiet = make_topic(author, title="Quiet topic")
    _, worrying = make_topic(author, title="Tired of it all", body="I am so tired of everything.")
    board.report(quiet, make_user("early@example.com", "Early Reporter"), "Spam")  # older, ordinary
    sign_in(client, make_member("reporter@example.com", "Reporter"))
    response = post_form(client, f"/forum/p/{worrying}/report", {"reason": "at_risk", "details": "Sounds in danger"})
    page = text_of(client.get(response.headers["Location"]))
    for number in SUPPORT:
        assert number in page
    assert "Moderators see reports that someone may be at risk first" in page
    queue = text_of(mod_client.get("/moderation/"))
    assert queue.index(f'id="item-{worrying}"') < queue.index(f'id="item-{quiet}"')
    assert "Urgent" in queue[queue.index(f'id="item-{worrying}"') : queue.index(f'id="item-{quiet}"')]
