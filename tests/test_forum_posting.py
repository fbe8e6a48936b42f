"""Starting topics and replying over HTTP: validation, preview, abuse controls, held posts, outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ldnsite.db import utcnow
from ldnsite.forum.models import Post, Topic
from ldnsite.search.models import SearchOutbox
from tests.conftest import csrf_from, post_form
from tests.fixtures_forum import sign_in

pytestmark = pytest.mark.both_databases


def text(response) -> str:
    return response.get_data(as_text=True)


def count(db, model, *where) -> int:
    db.rollback()  # end any read transaction, so the count sees what the requests committed
    return db.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.sqlite_only
def test_anonymous_readers_are_sent_to_sign_in_and_nothing_is_stored(client, db):
    response = client.get("/forum/new")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login?next=%2Fforum%2Fnew"
    response = client.post("/forum/new", data={"title": "Hello world", "body": "Hi"})
    assert response.status_code in (302, 400)
    assert count(db, Topic) == 0


def test_member_starts_a_topic(client, db, make_member):
    member = make_member()
    sign_in(client, member)
    before = count(db, Topic)
    response = post_form(client, "/forum/new", {"title": "  Sleep on LDN  ", "body": "  Did anyone get **vivid dreams**?  "})
    assert response.status_code == 302
    topic = db.scalars(select(Topic).order_by(Topic.id.desc())).first()
    assert count(db, Topic) == before + 1
    assert response.headers["Location"] == f"/forum/t/{topic.id}"
    assert topic.title == "Sleep on LDN"  # trimmed
    post = db.scalars(select(Post).where(Post.topic_id == topic.id)).one()
    assert post.status == "published"
    assert post.body_source == "Did anyone get **vivid dreams**?"
    assert post.body_html == "<p>Did anyone get <strong>vivid dreams</strong>?</p>"
    kinds = {(row.doc_kind, row.doc_id) for row in db.scalars(select(SearchOutbox))}
    assert ("topic", str(topic.id)) in kinds and ("post", str(post.id)) in kinds
    page = text(client.get(response.headers["Location"]))
    assert "Your topic has been posted." in page and "<strong>vivid dreams</strong>" in page
    assert "Sleep on LDN" in text(client.get("/forum/"))


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("title", "body", "messages"),
    [
        ("", "", ["Enter a title", "Enter your message"]),
        ("   ", "   ", ["Enter a title", "Enter your message"]),
        ("Four", "ok", ["The title must be between 5 and 150 characters"]),
        ("x" * 151, "ok", ["The title must be between 5 and 150 characters"]),
        ("A fine title", "x" * 10_001, ["Your message must be 10,000 characters or fewer"]),
    ],
)
def test_bad_topic_input_is_refused_with_an_error_summary_and_nothing_stored(client, db, make_member, title, body, messages):
    sign_in(client, make_member())
    before = (count(db, Topic), count(db, Post))
    response = post_form(client, "/forum/new", {"title": title, "body": body})
    assert response.status_code == 422
    page = text(response)
    assert "There is a problem" in page
    for message in messages:
        assert message in page
    for field in ("title", "body"):
        if any(field in m or (field == "body" and "message" in m) for m in messages):
            assert f'href="#{field}"' in page
    assert (count(db, Topic), count(db, Post)) == before


def test_boundary_lengths_are_accepted(client, db, make_member):
    sign_in(client, make_member())
    assert post_form(client, "/forum/new", {"title": "x" * 5, "body": "y"}).status_code == 302
    assert post_form(client, "/forum/new", {"title": "z" * 150, "body": "w" * 10_000}).status_code == 302


@pytest.mark.sqlite_only
def test_missing_or_wrong_csrf_token_is_400_and_nothing_stored(client, db, make_member, make_topic):
    member = make_member()
    sign_in(client, member)
    topic_id, _ = make_topic(member)
    before = (count(db, Topic), count(db, Post))
    assert client.post("/forum/new", data={"title": "No token here", "body": "x"}).status_code == 400
    assert client.post("/forum/new", data={"title": "Bad token", "body": "x", "csrf_token": "forged"}).status_code == 400
    assert client.post(f"/forum/t/{topic_id}/reply", data={"body": "x"}).status_code == 400
    assert (count(db, Topic), count(db, Post)) == before


@pytest.mark.sqlite_only
def test_preview_shows_the_sanitised_post_keeps_the_text_and_stores_nothing(client, db, make_member):
    sign_in(client, make_member())
    before = count(db, Topic)
    body = "I take **4.5 mg** <script>alert(1)</script>"
    response = post_form(client, "/forum/new", {"title": "Preview me please", "body": body, "preview": "preview"})
    assert response.status_code == 200
    page = text(response)
    assert '<h2 id="forum-preview-heading">Preview</h2>' in page
    assert "<strong>4.5 mg</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert "I take **4.5 mg** &lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in page  # text kept, escaped
    assert 'value="Preview me please"' in page
    assert count(db, Topic) == before


@pytest.mark.sqlite_only
def test_preview_of_a_reply_stores_nothing(client, db, make_member, make_topic):
    member = make_member()
    sign_in(client, member)
    topic_id, _ = make_topic(member)
    before = count(db, Post)
    response = post_form(client, f"/forum/t/{topic_id}/reply", {"body": "*draft*", "preview": "preview"})
    assert response.status_code == 200 and "<em>draft</em>" in text(response)
    assert count(db, Post) == before


@pytest.mark.sqlite_only
def test_honeypot_filled_in_is_refused_and_nothing_stored(client, db, make_member):
    sign_in(client, make_member())
    before = count(db, Topic)
    response = post_form(client, "/forum/new", {"title": "Cheap pills online", "body": "Buy now", "website": "http://spam.example"})
    assert response.status_code == 400
    assert count(db, Topic) == before


def test_the_same_topic_form_sent_twice_makes_one_topic(client, db, make_member):
    sign_in(client, make_member())
    before = count(db, Topic)
    page = text(client.get("/forum/new"))
    data = {"csrf_token": csrf_from(page), "title": "Double click topic", "body": "Sent twice by accident."}
    first = client.post("/forum/new", data=data)
    second = client.post("/forum/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(db, Topic) == before + 1


def test_the_same_reply_sent_twice_makes_one_post(client, db, make_member, make_topic):
    member = make_member()
    sign_in(client, member)
    topic_id, _ = make_topic(member)
    page = text(client.get(f"/forum/t/{topic_id}/reply"))
    data = {"csrf_token": csrf_from(page), "body": "Thanks, that helped."}
    first = client.post(f"/forum/t/{topic_id}/reply", data=data)
    second = client.post(f"/forum/t/{topic_id}/reply", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert count(db, Post, Post.topic_id == topic_id) == 2


def test_member_replies_and_the_topic_moves_to_the_top(client, db, make_member, make_user, make_topic):
    author = make_user("author@example.com", "Author")
    replier = make_member("replier@example.com", "Replier")
    topic_id, _ = make_topic(author, title="An older question", at=utcnow() - timedelta(days=3))
    make_topic(author, title="A newer question", at=utcnow() - timedelta(days=1))
    sign_in(client, replier)
    assert "Your reply" in text(client.get(f"/forum/t/{topic_id}/reply"))
    response = post_form(client, f"/forum/t/{topic_id}/reply", {"body": "It took me *six weeks*."})
    assert response.status_code == 302
    post = db.scalars(select(Post).where(Post.topic_id == topic_id).order_by(Post.id.desc())).first()
    assert response.headers["Location"] == f"/forum/t/{topic_id}#post-{post.id}"
    assert post.status == "published" and post.author_id == replier.id
    assert ("post", str(post.id)) in {(r.doc_kind, r.doc_id) for r in db.scalars(select(SearchOutbox))}
    listing = text(client.get("/forum/"))
    assert listing.index("An older question") < listing.index("A newer question")
    assert "<em>six weeks</em>" in text(client.get(f"/forum/t/{topic_id}"))


def test_reply_with_errors_is_422_and_unknown_topic_is_404(client, db, make_member, make_topic):
    member = make_member()
    sign_in(client, member)
    topic_id, _ = make_topic(member)
    before = count(db, Post)
    response = post_form(client, f"/forum/t/{topic_id}/reply", {"body": "   "})
    assert response.status_code == 422
    assert 'href="#body"' in text(response) and "Enter your message" in text(response)
    assert count(db, Post) == before
    assert client.get("/forum/t/9999/reply").status_code == 404


def test_a_new_members_first_three_posts_wait_for_a_moderator(client, db, make_user, make_topic):
    author = make_user("author@example.com", "Author")
    newbie = make_user("new@example.com", "Newbie")
    topic_id, _ = make_topic(author)
    sign_in(client, newbie)

    response = post_form(client, "/forum/new", {"title": "Hello from a newcomer", "body": "My story."})
    new_topic = db.scalars(select(Topic).where(Topic.author_id == newbie.id)).one()
    assert new_topic.status == "pending"
    assert "waiting for a moderator" in text(client.get(response.headers["Location"]))
    for n in (2, 3):
        post_form(client, f"/forum/t/{topic_id}/reply", {"body": f"Reply number {n}"})
    statuses = [p.status for p in db.scalars(select(Post).where(Post.author_id == newbie.id).order_by(Post.id))]
    assert statuses == ["pending", "pending", "pending"]

    # A fourth post waits too: only approved posts earn trust, not the number written.
    post_form(client, f"/forum/t/{topic_id}/reply", {"body": "Reply number 4, no links."})
    assert db.scalars(select(Post).where(Post.author_id == newbie.id).order_by(Post.id.desc())).first().status == "pending"
    for post in db.scalars(select(Post).where(Post.author_id == newbie.id).order_by(Post.id).limit(3)):
        post.status = "published"  # as a moderator approving the first three
    db.commit()
    post_form(client, f"/forum/t/{topic_id}/reply", {"body": "Reply number 5, no links."})
    assert db.scalars(select(Post).where(Post.author_id == newbie.id).order_by(Post.id.desc())).first().status == "published"

    # Others do not see the held posts.
    sign_in(client, author)
    page = text(client.get(f"/forum/t/{topic_id}"))
    assert "Reply number 4" not in page and "Reply number 5, no links." in page


@pytest.mark.parametrize(
    "body", ["See https://example.org/ldn", "See [this](https://example.org)", "www.example.org has it", "<https://example.org>"]
)
def test_links_are_held_from_members_with_no_approved_post(client, db, make_user, make_topic, make_post, body):
    author = make_user("author@example.com", "Author")
    newbie = make_user("new@example.com", "Newbie")
    topic_id, _ = make_topic(author)
    for _ in range(3):
        make_post(topic_id, newbie, "Removed earlier.", status="removed")
    sign_in(client, newbie)
    post_form(client, f"/forum/t/{topic_id}/reply", {"body": body})
    assert db.scalars(select(Post).where(Post.author_id == newbie.id).order_by(Post.id.desc())).first().status == "pending"
    # Removals count against trust: without approved posts, a post with no link waits as well.
    post_form(client, f"/forum/t/{topic_id}/reply", {"body": "No link in this one."})
    assert db.scalars(select(Post).where(Post.author_id == newbie.id).order_by(Post.id.desc())).first().status == "pending"


def test_links_from_members_with_approved_posts_and_moderators_go_straight_up(client, db, make_member, make_user, make_topic):
    member = make_member()
    mod = make_user("mod@example.com", "Mo", role="moderator")
    topic_id, _ = make_topic(member)
    for user in (member, mod):
        sign_in(client, user)
        post_form(client, f"/forum/t/{topic_id}/reply", {"body": f"Source: https://example.org/{user.id}"})
        assert db.scalars(select(Post).where(Post.author_id == user.id).order_by(Post.id.desc())).first().status == "published"


def test_locked_topics_refuse_replies_with_a_clear_message(client, db, make_member, make_topic):
    member = make_member()
    topic_id, _ = make_topic(member, locked=True)
    sign_in(client, member)
    page = text(client.get(f"/forum/t/{topic_id}"))
    assert "locked" in page and f'action="/forum/t/{topic_id}/reply"' not in page
    response = client.get(f"/forum/t/{topic_id}/reply")
    assert response.status_code == 403 and "This topic is locked" in text(response)
    before = count(db, Post)
    token = csrf_from(text(client.get("/forum/new")))
    response = client.post(f"/forum/t/{topic_id}/reply", data={"csrf_token": token, "body": "Let me in"})
    assert response.status_code == 403
    assert count(db, Post) == before


def _suspend(db, user, ends_at=None, lifted=False):
    from ldnsite.accounts.models import Suspension

    db.add(Suspension(user_id=user.id, reason="Repeated advertising.", ends_at=ends_at, lifted_at=utcnow() if lifted else None))
    db.commit()


def test_suspended_members_cannot_post_and_are_told_why(client, db, make_member, make_topic):
    member = make_member()
    topic_id, _ = make_topic(member)
    _suspend(db, member, ends_at=utcnow() + timedelta(days=3))
    sign_in(client, member)
    for url in ("/forum/new", f"/forum/t/{topic_id}/reply"):
        response = client.get(url)
        assert response.status_code == 403
        assert "Your account is suspended" in text(response) and "Repeated advertising." in text(response)
    token = csrf_from(text(client.get("/forum/")))
    before = count(db, Post)
    assert client.post("/forum/new", data={"csrf_token": token, "title": "Still posting", "body": "x"}).status_code == 403
    assert count(db, Post) == before


def test_ended_or_lifted_suspensions_no_longer_apply(client, db, make_member):
    member = make_member()
    _suspend(db, member, ends_at=utcnow() - timedelta(minutes=1))
    _suspend(db, member, lifted=True)
    sign_in(client, member)
    assert client.get("/forum/new").status_code == 200


def test_unverified_members_cannot_post(client, db, make_user):
    member = make_user(verified=False)
    sign_in(client, member)
    response = client.get("/forum/new")
    assert response.status_code == 403 and "Confirm your email address" in text(response)


@pytest.mark.sqlite_only
def test_script_in_a_post_is_shown_as_text_on_the_topic_page(client, db, make_member):
    sign_in(client, make_member())
    response = post_form(
        client, "/forum/new", {"title": "Testing the filter", "body": "<img src=x onerror=alert(1)> [x](javascript:alert(1))"}
    )
    page = text(client.get(response.headers["Location"]))
    assert "<img src=x" not in page and 'href="javascript' not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


# ---- "Discuss this article" ---------------------------------------------------------------


@pytest.mark.sqlite_only
def test_discuss_an_unknown_page_is_404(client):
    assert client.get("/forum/discuss/no-such-page").status_code == 404


@pytest.mark.sqlite_only
def test_discuss_sends_anonymous_readers_to_sign_in(client):
    response = client.get("/forum/discuss/low-dose-naltrexone")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login?next=%2Fforum%2Fdiscuss%2Flow-dose-naltrexone"


def test_discuss_starts_the_articles_topic_then_opens_it(client, db, make_member):
    member = make_member()
    sign_in(client, member)
    response = client.get("/forum/discuss/low-dose-naltrexone")
    assert response.headers["Location"] == "/forum/new?page_slug=low-dose-naltrexone"
    form = text(client.get(response.headers["Location"]))
    assert 'value="Discussing: ' in form and 'name="page_slug" type="hidden" value="low-dose-naltrexone"' in form
    created = post_form(
        client,
        "/forum/new?page_slug=low-dose-naltrexone",
        {"title": "Discussing: LDN", "body": "What did you think?", "page_slug": "low-dose-naltrexone"},
    )
    topic = db.scalars(select(Topic).where(Topic.page_slug == "low-dose-naltrexone")).one()
    assert created.headers["Location"] == f"/forum/t/{topic.id}"
    assert client.get("/forum/discuss/low-dose-naltrexone").headers["Location"] == f"/forum/t/{topic.id}"
    # A second start for the same article goes to the existing discussion and stores nothing.
    before = count(db, Topic)
    again = post_form(
        client,
        "/forum/new",
        {"title": "Discussing: LDN again", "body": "Me too", "page_slug": "low-dose-naltrexone"},
        form_page="/forum/new",
    )
    assert again.status_code == 302 and again.headers["Location"] == f"/forum/t/{topic.id}"
    assert count(db, Topic) == before


@pytest.mark.sqlite_only
def test_a_tampered_page_slug_is_refused(client, db, make_member):
    sign_in(client, make_member())
    before = count(db, Topic)
    response = post_form(client, "/forum/new", {"title": "Sneaky topic", "body": "x", "page_slug": "not-a-page"})
    assert response.status_code == 400
    assert count(db, Topic) == before
