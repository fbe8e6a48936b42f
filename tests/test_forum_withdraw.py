"""Members withdraw their own posts: readers see "withdrawn by its author", moderators keep the text for the
retention period /privacy states, then `flask forum purge-withdrawn` erases it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ldnsite.db import get_session, utcnow
from ldnsite.forum.models import Post, PostRevision, Report
from tests.conftest import post_form
from tests.fixtures_forum import sign_in

pytestmark = pytest.mark.both_databases


def text(response) -> str:
    return response.get_data(as_text=True)


def load(app, model, ident):
    with app.app_context():
        session = get_session()
        row = session.get(model, ident)
        session.expunge(row)
        return row


def test_a_member_withdraws_their_post_and_readers_see_only_that(app, client, make_member, make_user, make_topic, make_post):
    other = make_user("other@example.com", "Other")
    member = make_member()
    topic_id, _ = make_topic(other, title="Diagnosis stories")
    post_id = make_post(topic_id, member, "My full diagnosis history, which I regret sharing.")
    sign_in(client, member)
    page = text(client.get(f"/forum/t/{topic_id}"))
    assert f'href="/forum/p/{post_id}/withdraw"' in page
    confirm = client.get(f"/forum/p/{post_id}/withdraw")
    assert confirm.status_code == 200 and "30 days" in text(confirm) and 'href="/privacy"' in text(confirm)
    response = post_form(client, f"/forum/p/{post_id}/withdraw", {})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#post-{post_id}")
    landed = text(client.get(response.headers["Location"]))
    assert "You withdrew your post." in landed
    post = load(app, Post, post_id)
    assert post.status == "withdrawn" and post.withdrawn_at is not None
    assert post.body_source == "My full diagnosis history, which I regret sharing."  # kept for moderators

    sign_in(client, other)
    page = text(client.get(f"/forum/t/{topic_id}"))
    assert "This post was withdrawn by its author." in page and "regret sharing" not in page
    sign_in(client, None)
    assert "regret sharing" not in text(client.get(f"/forum/t/{topic_id}"))
    sign_in(client, make_user("mod@example.com", "Maya", role="moderator"))
    page = text(client.get(f"/forum/t/{topic_id}"))
    assert "Show the withdrawn text" in page and "regret sharing" in page


def test_only_the_author_can_withdraw_and_only_once(app, client, make_member, make_user, make_topic):
    author = make_member()
    _, post_id = make_topic(author)
    sign_in(client, make_member("other@example.com", "Other"))
    assert client.get(f"/forum/p/{post_id}/withdraw").status_code == 403
    assert post_form(client, f"/forum/p/{post_id}/withdraw", {}, form_page="/forum/").status_code == 403
    assert load(app, Post, post_id).status == "published"
    sign_in(client, author)
    assert post_form(client, f"/forum/p/{post_id}/withdraw", {}).status_code == 302
    again = client.get(f"/forum/p/{post_id}/withdraw")
    assert again.status_code == 403 and "already withdrawn" in text(again)
    assert client.get(f"/forum/p/{post_id}/edit").status_code == 403


def test_a_suspended_member_can_still_withdraw(app, client, make_member, make_topic, moderator):
    from ldnsite.accounts.models import Suspension

    member = make_member()
    _, post_id = make_topic(member)
    with app.app_context():
        session = get_session()
        session.add(Suspension(user_id=member.id, moderator_id=moderator.id, reason="Spam."))
        session.commit()
    sign_in(client, member)
    assert post_form(client, f"/forum/p/{post_id}/withdraw", {}).status_code == 302
    assert load(app, Post, post_id).status == "withdrawn"


def test_withdrawing_closes_open_reports(app, client, make_member, make_user, make_topic, board):
    member = make_member()
    _, post_id = make_topic(member)
    report_id = board.report(post_id, make_user("rep@example.com", "Reporter"))
    sign_in(client, member)
    post_form(client, f"/forum/p/{post_id}/withdraw", {})
    assert load(app, Report, report_id).resolution == "withdrawn"


def test_purge_erases_text_and_revisions_after_the_retention_period_only(app, make_member, make_topic):
    member = make_member()
    _, old = make_topic(member, title="Old one", body="Old private text")
    _, recent = make_topic(member, title="Recent one", body="Recent private text")
    with app.app_context():
        session = get_session()
        for pid, days in ((old, 31), (recent, 29)):
            post = session.get(Post, pid)
            post.status, post.withdrawn_at = "withdrawn", utcnow() - timedelta(days=days)
            session.add(PostRevision(post_id=pid, body_source="earlier private", body_html="<p>earlier private</p>"))
        session.commit()
    result = app.test_cli_runner().invoke(args=["forum", "purge-withdrawn"])
    assert result.exit_code == 0 and "erased the text of 1 withdrawn post" in result.output
    assert load(app, Post, old).body_source == "" and load(app, Post, recent).body_source == "Recent private text"
    with app.app_context():
        revisions = get_session().scalars(select(PostRevision.post_id)).all()
    assert revisions == [recent]
