"""Editing one's own post for 30 minutes (history kept), and reporting posts (once per member)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ldnsite.db import utcnow
from ldnsite.forum.forms import REPORT_REASONS
from ldnsite.forum.models import Post, PostRevision, Report
from ldnsite.search.models import SearchOutbox
from tests.conftest import csrf_from, post_form
from tests.fixtures_forum import sign_in

pytestmark = pytest.mark.both_databases


def text(response) -> str:
    return response.get_data(as_text=True)


def count(db, model, *where) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(model).where(*where))


# ---- edit ---------------------------------------------------------------------------------


def test_author_edits_within_thirty_minutes_and_the_old_text_is_kept(client, db, make_member, make_topic):
    member = make_member()
    topic_id, post_id = make_topic(member, body="I take 1.5 mg.", at=utcnow() - timedelta(minutes=29))
    sign_in(client, member)
    page = text(client.get(f"/forum/t/{topic_id}"))
    assert f'href="/forum/p/{post_id}/edit"' in page
    form = text(client.get(f"/forum/p/{post_id}/edit"))
    assert "I take 1.5 mg.</textarea>" in form
    response = post_form(client, f"/forum/p/{post_id}/edit", {"body": "I take **3 mg** now."})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/forum/t/{topic_id}#post-{post_id}"
    db.rollback()
    post = db.get(Post, post_id)
    assert post.body_source == "I take **3 mg** now." and post.body_html == "<p>I take <strong>3 mg</strong> now.</p>"
    assert post.edited_at is not None
    revisions = db.scalars(select(PostRevision).where(PostRevision.post_id == post_id)).all()
    assert [r.body_source for r in revisions] == ["I take 1.5 mg."]
    assert ("post", str(post_id)) in {(r.doc_kind, r.doc_id) for r in db.scalars(select(SearchOutbox))}
    page = text(client.get(f"/forum/t/{topic_id}"))
    assert "<strong>3 mg</strong>" in page and "edited" in page and "I take 1.5 mg." not in page


def test_editing_after_thirty_minutes_is_refused_with_a_clear_message(client, db, make_member, make_topic):
    member = make_member()
    topic_id, post_id = make_topic(member, body="Old words.", at=utcnow() - timedelta(minutes=31))
    sign_in(client, member)
    assert f'href="/forum/p/{post_id}/edit"' not in text(client.get(f"/forum/t/{topic_id}"))
    response = client.get(f"/forum/p/{post_id}/edit")
    assert response.status_code == 403
    assert "can only be edited for 30 minutes" in text(response)
    token = csrf_from(text(client.get("/forum/")))
    assert client.post(f"/forum/p/{post_id}/edit", data={"csrf_token": token, "body": "New words."}).status_code == 403
    db.rollback()
    assert db.get(Post, post_id).body_source == "Old words."
    assert count(db, PostRevision) == 0


@pytest.mark.sqlite_only
def test_editing_someone_elses_post_is_403(client, db, make_member, make_user, make_topic):
    owner = make_user("owner@example.com", "Owner")
    other = make_member("other@example.com", "Other")
    _, post_id = make_topic(owner, body="Mine.")
    sign_in(client, other)
    assert client.get(f"/forum/p/{post_id}/edit").status_code == 403
    token = csrf_from(text(client.get("/forum/")))
    assert client.post(f"/forum/p/{post_id}/edit", data={"csrf_token": token, "body": "Hijacked."}).status_code == 403
    db.rollback()
    assert db.get(Post, post_id).body_source == "Mine."


@pytest.mark.sqlite_only
def test_edit_errors_are_422_and_change_nothing(client, db, make_member, make_topic):
    member = make_member()
    _, post_id = make_topic(member, body="Keep me.")
    sign_in(client, member)
    response = post_form(client, f"/forum/p/{post_id}/edit", {"body": "x" * 10_001})
    assert response.status_code == 422 and 'href="#body"' in text(response)
    preview = post_form(client, f"/forum/p/{post_id}/edit", {"body": "_changed_", "preview": "preview"})
    assert preview.status_code == 200 and "<em>changed</em>" in text(preview)
    db.rollback()
    assert db.get(Post, post_id).body_source == "Keep me."
    assert count(db, PostRevision) == 0


@pytest.mark.sqlite_only
def test_edit_of_unknown_post_is_404_and_anonymous_is_sent_to_sign_in(client, make_user, make_topic):
    owner = make_user()
    _, post_id = make_topic(owner)
    assert client.get(f"/forum/p/{post_id}/edit").headers["Location"].startswith("/account/login?next=")
    sign_in(client, owner)
    assert client.get("/forum/p/9999/edit").status_code == 404


def test_removed_posts_cannot_be_edited(client, make_user, make_topic, make_post):
    owner = make_user()
    topic_id, _ = make_topic(owner)
    post_id = make_post(topic_id, owner, "Gone.", status="removed")
    sign_in(client, owner)
    response = client.get(f"/forum/p/{post_id}/edit")
    assert response.status_code == 403 and "removed by a moderator" in text(response)


# ---- report -------------------------------------------------------------------------------


def test_member_reports_a_post_once(client, db, make_member, make_user, make_topic):
    author = make_user("author@example.com", "Author")
    reporter = make_member("reporter@example.com", "Reporter")
    topic_id, post_id = make_topic(author, body="Stop your medicines, take this instead.")
    sign_in(client, reporter)
    assert f'href="/forum/p/{post_id}/report"' in text(client.get(f"/forum/t/{topic_id}"))
    form = text(client.get(f"/forum/p/{post_id}/report"))
    assert "Stop your medicines" in form and 'name="reason"' in form
    for value, label in REPORT_REASONS:
        assert f'type="radio" name="reason" value="{value}"' in form and f">{label}</label>" in form
    response = post_form(client, f"/forum/p/{post_id}/report", {"reason": "medical", "details": "  Tells people to stop.  "})
    assert response.status_code == 302
    assert "Thank you for your report" in text(client.get(response.headers["Location"]))
    reports = db.scalars(select(Report)).all()
    assert [(r.post_id, r.reporter_id, r.reason, r.category, r.details) for r in reports] == [
        (post_id, reporter.id, "Unsafe or misleading medical advice", "medical", "Tells people to stop.")
    ]

    token = csrf_from(text(client.get("/forum/")))
    again = client.post(f"/forum/p/{post_id}/report", data={"csrf_token": token, "reason": "Reporting again."})
    assert again.status_code == 302
    assert "You have already reported this post" in text(client.get(again.headers["Location"]))
    assert count(db, Report) == 1


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": ""}, "reason", "Choose why you are reporting this post"),
        ({"reason": "  "}, "reason", "Choose why you are reporting this post"),
        ({"reason": "other", "details": "  "}, "details", "because you chose Other"),
        ({"reason": "spam", "details": "x" * 1001}, "details", "1,000 characters or fewer"),
        ({"reason": "no"}, "reason", "The reason must be between 3 and 1,000 characters"),
        ({"reason": "x" * 1001}, "reason", "The reason must be between 3 and 1,000 characters"),
    ],
)
def test_report_needs_a_chosen_reason_and_details_for_other(client, db, make_member, make_user, make_topic, data, field, message):
    author = make_user("author@example.com", "Author")
    sign_in(client, make_member("reporter@example.com", "Reporter"))
    _, post_id = make_topic(author)
    response = post_form(client, f"/forum/p/{post_id}/report", data)
    assert response.status_code == 422
    assert message in text(response) and f'href="#{field}"' in text(response)
    assert f'id="{field}"' in text(response)
    assert count(db, Report) == 0


def test_a_free_text_reason_is_kept_as_the_details_of_other(client, db, make_member, make_user, make_topic):
    author = make_user("author@example.com", "Author")
    sign_in(client, make_member("reporter@example.com", "Reporter"))
    _, post_id = make_topic(author)
    assert post_form(client, f"/forum/p/{post_id}/report", {"reason": "Dangerous advice."}).status_code == 302
    report = db.scalars(select(Report)).one()
    assert (report.reason, report.category, report.details) == ("Other", "other", "Dangerous advice.")


def test_moderators_see_the_chosen_reason_and_the_details(client, db, make_member, make_user, make_topic):
    author = make_user("author@example.com", "Author")
    sign_in(client, make_member("reporter@example.com", "Reporter"))
    _, post_id = make_topic(author, body="Buy LDN from my shop")
    post_form(client, f"/forum/p/{post_id}/report", {"reason": "spam", "details": "Links to a shop"})
    sign_in(client, make_user("mod@example.com", "Maya", role="moderator"))
    queue = text(client.get("/moderation/"))
    assert "<strong>Spam or advertising</strong>" in queue and "Links to a shop" in queue


def test_members_cannot_report_their_own_post(client, db, make_member, make_topic):
    member = make_member()
    topic_id, post_id = make_topic(member)
    sign_in(client, member)
    assert f'href="/forum/p/{post_id}/report"' not in text(client.get(f"/forum/t/{topic_id}"))
    response = client.get(f"/forum/p/{post_id}/report")
    assert response.status_code == 403 and "cannot report your own post" in text(response)
    assert count(db, Report) == 0


def test_suspended_and_unverified_members_cannot_report(client, db, make_user, make_topic):
    from ldnsite.accounts.models import Suspension

    author = make_user("author@example.com", "Author")
    _, post_id = make_topic(author)
    unverified = make_user("unverified@example.com", "Unverified", verified=False)
    suspended = make_user("suspended@example.com", "Suspended")
    db.add(Suspension(user_id=suspended.id, reason="Abusive messages."))
    db.commit()
    for user, message in ((unverified, "Confirm your email address"), (suspended, "Your account is suspended")):
        sign_in(client, user)
        response = client.get(f"/forum/p/{post_id}/report")
        assert response.status_code == 403 and message in text(response)
        token = csrf_from(text(client.get("/forum/")))
        assert client.post(f"/forum/p/{post_id}/report", data={"csrf_token": token, "reason": "Because."}).status_code == 403
    assert count(db, Report) == 0


def test_reporting_unknown_or_hidden_posts_is_404_and_anonymous_is_sent_to_sign_in(client, make_member, make_user, make_topic, make_post):
    author = make_user("author@example.com", "Author")
    topic_id, post_id = make_topic(author)
    pending_id = make_post(topic_id, author, "Held.", status="pending")
    assert client.get(f"/forum/p/{post_id}/report").headers["Location"] == f"/account/login?next=%2Fforum%2Fp%2F{post_id}%2Freport"
    sign_in(client, make_member("reporter@example.com", "Reporter"))
    assert client.get("/forum/p/9999/report").status_code == 404
    assert client.get(f"/forum/p/{pending_id}/report").status_code == 404
    token = csrf_from(text(client.get("/forum/")))
    assert client.post(f"/forum/p/{pending_id}/report", data={"csrf_token": token, "reason": "Spam."}).status_code == 404


def _article(page: str, post_id: int) -> str:
    start = page.index(f'id="post-{post_id}"')
    return page[start : page.index("</article>", start)]


def test_the_report_confirmation_is_shown_inside_the_reported_post(client, db, make_member, make_user, make_topic, make_post):
    author = make_user("author@example.com", "Author")
    topic_id, first = make_topic(author)
    for n in range(15):
        make_post(topic_id, author, f"Reply {n}")
    target = make_post(topic_id, author, "The reply to report")
    sign_in(client, make_member("reporter@example.com", "Reporter"))
    response = post_form(client, f"/forum/p/{target}/report", {"reason": "unkind"})
    assert response.headers["Location"].endswith(f"#post-{target}")
    page = text(client.get(response.headers["Location"]))
    assert "Thank you for your report" in _article(page, target)
    assert "Thank you for your report" not in page.split(f'id="post-{first}"')[0]  # not at the top, far above
    assert "Thank you for your report" not in text(client.get(f"/forum/t/{topic_id}"))  # shown once


def test_the_reply_confirmation_is_shown_inside_the_new_reply(client, db, make_member, make_topic):
    member = make_member()
    topic_id, _ = make_topic(member)
    sign_in(client, member)
    response = post_form(client, f"/forum/t/{topic_id}/reply", {"body": "Landing here"})
    reply = db.scalars(select(Post).order_by(Post.id.desc())).first()
    page = text(client.get(response.headers["Location"]))
    assert "Your reply has been posted." in _article(page, reply.id)
