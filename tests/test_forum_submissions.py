"""Submissions that race: the same form sent twice at once, an edit racing a removal, and a form
whose CSRF token expired while the member was writing. Real threads, real databases."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import itsdangerous.timed
import pytest
from sqlalchemy import func, select

from ldnsite.db import utcnow
from ldnsite.forum.models import Post, Topic
from tests.conftest import csrf_from, post_form
from tests.fixtures_forum import sign_in

pytestmark = pytest.mark.both_databases

ROUNDS = 5
NONCE_RE = re.compile(r'name="nonce" type="hidden" value="([^"]+)"')


def text(response) -> str:
    return response.get_data(as_text=True)


def count(app, model, *where) -> int:
    from ldnsite.db import get_session

    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model).where(*where))


def twin_clients(app, user):
    """Two clients with one session cookie, as one browser sending a form twice."""
    first = app.test_client()
    sign_in(first, user)
    return first, app.test_client()


def together(*calls) -> list:
    """Run each call in its own thread, released at the same moment; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001  (raised below, in the test's thread)
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def send_together(clients, url: str, data: dict) -> list:
    return together(*(lambda c=c: c.post(url, data=data) for c in clients))


def form_fields(client, url: str, twin=None) -> dict:
    """The form's CSRF token and nonce; a twin client gets the same session cookie, as a second tab would."""
    html = text(client.get(url))
    if twin is not None:
        twin.set_cookie("session", client.get_cookie("session").value)
    return {"csrf_token": csrf_from(html), "nonce": NONCE_RE.search(html).group(1)}


# ---- double submission ---------------------------------------------------------------------


def test_the_same_reply_form_sent_twice_at_once_makes_one_post(app, make_member, make_topic):
    member = make_member()
    topic_id, _ = make_topic(member, title="A busy topic")
    clients = twin_clients(app, member)
    url = f"/forum/t/{topic_id}/reply"
    for n in range(ROUNDS):
        fields = form_fields(clients[0], url, clients[1])
        body = f"My reply number {n}, sent with a double click."
        responses = send_together(clients, url, {**fields, "body": body})
        assert [r.status_code for r in responses] == [302, 302]
        assert responses[0].headers["Location"] == responses[1].headers["Location"]
        assert count(app, Post, Post.body_source == body) == 1


def test_the_same_new_topic_form_sent_twice_at_once_makes_one_topic(app, make_member):
    member = make_member()
    clients = twin_clients(app, member)
    for n in range(ROUNDS):
        fields = form_fields(clients[0], "/forum/new", clients[1])
        title = f"Brain fog and LDN, round {n}"
        responses = send_together(clients, "/forum/new", {**fields, "title": title, "body": "Has it helped anyone?"})
        assert [r.status_code for r in responses] == [302, 302]
        assert responses[0].headers["Location"] == responses[1].headers["Location"]
        assert count(app, Topic, Topic.title == title) == 1
        assert count(app, Post, Post.body_source == "Has it helped anyone?") == n + 1


def test_a_form_sent_again_later_goes_to_the_post_it_made(client, app, make_member, make_topic):
    member = make_member()
    topic_id, _ = make_topic(member, title="A quiet topic")
    sign_in(client, member)
    url = f"/forum/t/{topic_id}/reply"
    fields = form_fields(client, url)
    first = client.post(url, data={**fields, "body": "Sent once."})
    again = client.post(url, data={**fields, "body": "Sent once, then changed and sent again."})
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert count(app, Post, Post.topic_id == topic_id) == 2  # the first post and one reply


def test_two_forms_with_the_same_text_are_two_posts_after_the_duplicate_window(client, app, make_member, make_topic, db):
    member = make_member()
    topic_id, _ = make_topic(member)
    sign_in(client, member)
    url = f"/forum/t/{topic_id}/reply"
    assert client.post(url, data={**form_fields(client, url), "body": "Thank you!"}).status_code == 302
    db.execute(Post.__table__.update().values(created_at=utcnow() - timedelta(hours=1)))  # the window has passed
    db.commit()
    assert client.post(url, data={**form_fields(client, url), "body": "Thank you!"}).status_code == 302
    assert count(app, Post, Post.body_source == "Thank you!") == 2


# ---- an edit racing a removal --------------------------------------------------------------


def _remove_now(app, post_id: int, moderator) -> None:
    """The moderator's removal, committed from a session of its own (another request)."""
    from ldnsite.accounts.models import User
    from ldnsite.moderation import actions

    session = app.extensions["db_sessionmaker"]()
    try:
        actions.remove_post(session, session.get(Post, post_id), session.get(User, moderator.id), "Spam or advertising")
    finally:
        session.close()


def test_an_edit_is_not_saved_onto_a_post_removed_while_it_was_being_saved(client, app, make_member, make_topic, moderator, monkeypatch):
    import ldnsite.forum.posting as posting

    member = make_member()
    _, post_id = make_topic(member, title="Dose question", body="What dose did you start on?")
    sign_in(client, member)
    real = posting.render_post

    def removed_meanwhile(source: str) -> str:  # runs after the edit has read the post, before it writes
        _remove_now(app, post_id, moderator)
        return real(source)

    fields = {"csrf_token": csrf_from(text(client.get(f"/forum/p/{post_id}/edit")))}
    monkeypatch.setattr(posting, "render_post", removed_meanwhile)
    response = client.post(f"/forum/p/{post_id}/edit", data={**fields, "body": "Buy cheap LDN at pills.example"})
    assert response.status_code == 409
    page = text(response)
    assert "Your changes were not saved: a moderator removed this post" in page
    assert "Buy cheap LDN at pills.example" in page  # the text is kept for the member
    assert "saved" not in re.sub(r"not saved", "", page.split("There is a problem")[1].split("</ul>")[0])
    with app.app_context():
        from ldnsite.db import get_session

        post = get_session().get(Post, post_id)
        assert post.status == "removed"
        assert post.body_source == "What dose did you start on?"
        assert post.edited_at is None


def test_edits_racing_removals_never_land_on_a_removed_post(app, make_member, make_topic, moderator):
    from ldnsite.db import get_session

    member = make_member()
    editor = app.test_client()
    sign_in(editor, member)
    mod = app.test_client()
    sign_in(mod, moderator)
    topic_id, _ = make_topic(member, title="Racing topic")
    mod_token = csrf_from(text(mod.get("/moderation/")))
    for n in range(ROUNDS):
        with app.app_context():
            from ldnsite.sanitising.posts import render_post

            session = get_session()
            post = Post(topic_id=topic_id, author_id=member.id, body_source="Before", body_html=render_post("Before"))
            session.add(post)
            session.commit()
            post_id = post.id
        edit_token = csrf_from(text(editor.get(f"/forum/p/{post_id}/edit")))
        edited, _ = together(
            lambda pid=post_id, token=edit_token, n=n: editor.post(
                f"/forum/p/{pid}/edit", data={"csrf_token": token, "body": f"After {n}"}
            ),
            lambda pid=post_id: mod.post(f"/moderation/p/{pid}/remove", data={"csrf_token": mod_token, "reason": "Off-topic"}),
        )
        with app.app_context():
            post = get_session().get(Post, post_id)
            assert post.status == "removed"
            told_saved = edited.status_code == 302
            if told_saved:  # the edit came first, then the moderator removed the edited text
                assert post.body_source == f"After {n}" and post.edited_at is not None
            else:  # the removal came first: nothing of the edit is stored
                assert edited.status_code in (403, 409)
                assert post.body_source == "Before" and post.edited_at is None


# ---- an expired form keeps the typed text --------------------------------------------------


class _Later:
    """time, five hours on: every CSRF token issued before is past its lifetime."""

    @staticmethod
    def time() -> float:
        return time.time() + 5 * 3600


@pytest.mark.parametrize(
    ("url_of", "data"),
    [
        (lambda topic_id, post_id: "/forum/new", {"title": "A long story", "body": "I wrote this slowly, over an hour."}),
        (lambda topic_id, post_id: f"/forum/t/{topic_id}/reply", {"body": "I wrote this slowly, over an hour."}),
        (lambda topic_id, post_id: f"/forum/p/{post_id}/edit", {"body": "I wrote this slowly, over an hour."}),
    ],
)
def test_an_expired_form_is_shown_again_with_the_text_and_nothing_is_saved(client, app, make_member, make_topic, monkeypatch, url_of, data):
    member = make_member()
    topic_id, post_id = make_topic(member, title="Fatigue diary")
    sign_in(client, member)
    url = url_of(topic_id, post_id)
    token = csrf_from(text(client.get(url)))
    before = (count(app, Post), count(app, Post, Post.edited_at.is_not(None)))
    monkeypatch.setattr(itsdangerous.timed, "time", _Later)
    response = client.post(url, data={"csrf_token": token, **data})
    assert response.status_code == 400
    page = text(response)
    assert "This form had expired (forms last 4 hours), so nothing was posted yet" in page
    assert "I wrote this slowly, over an hour." in page
    if "title" in data:
        assert 'value="A long story"' in page
    assert (count(app, Post), count(app, Post, Post.edited_at.is_not(None))) == before
    fresh = csrf_from(page)
    resent = client.post(url, data={"csrf_token": fresh, **data})
    assert resent.status_code == 302


def test_a_report_form_that_expired_keeps_its_reason(client, app, make_member, make_user, make_topic, monkeypatch):
    from ldnsite.forum.models import Report

    author = make_user("author@example.com", "Author")
    _, post_id = make_topic(author)
    sign_in(client, make_member())
    token = csrf_from(text(client.get(f"/forum/p/{post_id}/report")))
    monkeypatch.setattr(itsdangerous.timed, "time", _Later)
    response = client.post(f"/forum/p/{post_id}/report", data={"csrf_token": token, "reason": "spam", "details": "Sells pills"})
    assert response.status_code == 400
    assert "This form had expired" in text(response)
    assert count(app, Report) == 0


def test_a_form_from_elsewhere_is_still_refused(client, app, make_member, make_topic):
    member = make_member()
    topic_id, _ = make_topic(member)
    sign_in(client, member)
    response = post_form(client, f"/forum/t/{topic_id}/reply", {"body": "x", "csrf_token": "forged"})
    assert response.status_code == 400
    assert count(app, Post, Post.body_source == "x") == 0
