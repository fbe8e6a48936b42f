"""The queue and the post actions over HTTP: approve, remove with a reason, restore, dismiss reports."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from ldnsite.db import get_session
from tests.fixtures_moderation import token

pytestmark = pytest.mark.both_databases


def remove(client, post_id: int, reason: str = "Medical misinformation", detail: str = "", **extra):
    data = {"csrf_token": token(client), "reason": reason, "detail": detail, **extra}
    return client.post(f"/moderation/p/{post_id}/remove", data=data, follow_redirects=True)


def act(client, post_id: int, action: str):
    return client.post(f"/moderation/p/{post_id}/{action}", data={"csrf_token": token(client)}, follow_redirects=True)


# ---- the queue -----------------------------------------------------------------------------


def test_queue_lists_held_and_reported_posts_oldest_first_with_context(app, mod_client, board, make_user, member):
    reporter = make_user("reporter@example.com", "Riley Reporter")
    topic_id, first = board.topic(member, title="Dose question")
    reported = board.reply(topic_id, member, body="Take **50 mg** of LDN at once.")
    board.report(reported, reporter, reason="Dangerous: 50 mg is not a low dose")
    held = board.reply(topic_id, member, body="A held reply with a link", status="pending")
    quiet = board.reply(topic_id, member, body="Nobody reported this one")
    # The report is newer than the held post, so the held post comes first.
    from ldnsite.forum.models import Post, Report

    with app.app_context():
        session = get_session()
        session.get(Post, held).created_at -= timedelta(hours=2)
        session.get(Report, 1).created_at -= timedelta(hours=1)
        session.commit()

    html = mod_client.get("/moderation/").get_data(as_text=True)
    assert "2 posts to review" in html
    assert html.index(f'id="item-{held}"') < html.index(f'id="item-{reported}"')
    assert f'id="item-{quiet}"' not in html and f'id="item-{first}"' not in html
    assert "<strong>50 mg</strong>" in html  # the sanitised body, as members would see it
    assert "Dangerous: 50 mg is not a low dose" in html and "Riley Reporter" in html
    assert f'href="/forum/t/{topic_id}#post-{reported}"' in html
    assert "Published posts</dt><dd>3</dd>" in html  # the author's history
    assert "Removed posts</dt><dd>0</dd>" in html
    assert f'action="/moderation/p/{held}/approve"' in html
    assert f'action="/moderation/p/{reported}/approve"' not in html  # only held posts can be approved
    assert f'action="/moderation/p/{reported}/dismiss"' in html
    assert f'id="reason-{held}"' in html and f'id="reason-{reported}"' in html  # one form per post, ids unique


def test_queue_is_paginated(mod_client, board, member):
    topic_id, _ = board.topic(member)
    held = [board.reply(topic_id, member, body=f"held {i}", status="pending") for i in range(21)]
    page1 = mod_client.get("/moderation/").get_data(as_text=True)
    assert "Page 1 of 2" in page1 and f'id="item-{held[0]}"' in page1 and f'id="item-{held[20]}"' not in page1
    page2 = mod_client.get("/moderation/?page=2").get_data(as_text=True)
    assert f'id="item-{held[20]}"' in page2
    assert mod_client.get("/moderation/?page=3").status_code == 404
    assert mod_client.get("/moderation/?page=x").status_code == 400


@pytest.mark.sqlite_only
def test_queue_empty(mod_client):
    assert "Nothing to review" in mod_client.get("/moderation/").get_data(as_text=True)


# ---- approve -------------------------------------------------------------------------------


def test_approve_publishes_a_held_reply_once(app, mod_client, board, member, moderator):
    topic_id, _ = board.topic(member)
    before = board.topic_row(topic_id).last_activity_at
    held = board.reply(topic_id, member, status="pending")
    response = act(mod_client, held, "approve")
    assert "Post approved and published." in response.get_data(as_text=True)
    post = board.post(held)
    assert post.status == "published" and post.approved_by_id == moderator.id and post.approved_at is not None
    assert board.topic_row(topic_id).last_activity_at > before
    assert board.outbox("post", held) == 2  # one row when it was created, one for this action
    [entry] = board.log(action="approve")
    assert (entry.moderator_id, entry.target_type, entry.target_id) == (moderator.id, "post", held)
    # Again: nothing changes, no second entry, and the moderator is told.
    again = act(mod_client, held, "approve")
    assert "already approved" in again.get_data(as_text=True)
    assert len(board.log(action="approve")) == 1
    assert f'id="item-{held}"' not in mod_client.get("/moderation/").get_data(as_text=True)


def test_approving_a_held_first_post_publishes_its_topic(mod_client, board, member, client):
    topic_id, first = board.topic(member, title="A held new topic", status="pending")
    assert client.get(f"/forum/t/{topic_id}").status_code == 404
    act(mod_client, first, "approve")
    assert board.topic_row(topic_id).status == "published"
    assert board.outbox("topic", topic_id) == 2  # one row when it was created, one for this action
    assert "A held new topic" in client.get(f"/forum/t/{topic_id}").get_data(as_text=True)


def test_a_removed_post_cannot_be_approved(mod_client, board, member):
    topic_id, _ = board.topic(member)
    held = board.reply(topic_id, member, status="pending")
    remove(mod_client, held, "Spam or advertising")
    response = act(mod_client, held, "approve")
    assert "cannot be approved" in response.get_data(as_text=True)
    assert board.post(held).status == "removed"
    assert board.log(action="approve") == []


# ---- remove --------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_remove_needs_a_reason(mod_client, board, member):
    topic_id, _ = board.topic(member)
    reply = board.reply(topic_id, member)
    response = mod_client.post(f"/moderation/p/{reply}/remove", data={"csrf_token": token(mod_client), "reason": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and '<a href="#reason">Choose a reason for removing this post</a>' in html
    assert 'aria-invalid="true"' in html
    assert board.post(reply).status == "published" and board.log() == []


@pytest.mark.sqlite_only
def test_other_needs_details(mod_client, board, member):
    topic_id, _ = board.topic(member)
    reply = board.reply(topic_id, member)
    response = mod_client.post(f"/moderation/p/{reply}/remove", data={"csrf_token": token(mod_client), "reason": "Other", "detail": "  "})
    assert response.status_code == 422
    assert '<a href="#detail">Explain the reason, because you chose Other</a>' in response.get_data(as_text=True)
    assert board.post(reply).status == "published" and board.log() == []


def test_remove_is_a_soft_delete_with_reason_log_outbox_and_resolved_reports(app, mod_client, board, member, moderator, make_user):
    reporter = make_user("reporter@example.com", "Riley Reporter")
    topic_id, _ = board.topic(member)
    reply = board.reply(topic_id, member, body="Stop your other medicines and take LDN only.")
    board.report(reply, reporter)
    response = remove(mod_client, reply, "Medical misinformation", "Never advise stopping prescribed medicines.")
    assert response.status_code == 200
    assert "Post removed." in response.get_data(as_text=True)
    post = board.post(reply)
    assert post.status == "removed"
    assert post.body_source == "Stop your other medicines and take LDN only."  # the text is kept
    assert post.removal_reason == "Medical misinformation: Never advise stopping prescribed medicines."
    assert post.removed_by_id == moderator.id and post.removed_at is not None
    [entry] = board.log(action="remove")
    assert (entry.target_type, entry.target_id, entry.previous_state, entry.new_state) == ("post", reply, "published", "removed")
    assert entry.reason == post.removal_reason
    assert board.outbox("post", reply) == 2  # one row when it was created, one for this action
    from ldnsite.forum.models import Report

    with app.app_context():
        report = get_session().get(Report, 1)
        assert (report.resolution, report.resolved_by_id) == ("removed", moderator.id)
    assert f'id="item-{reply}"' not in mod_client.get("/moderation/").get_data(as_text=True)


def test_removing_an_already_removed_post_changes_nothing_and_says_so(mod_client, board, member):
    topic_id, _ = board.topic(member)
    reply = board.reply(topic_id, member)
    remove(mod_client, reply, "Off-topic")
    response = remove(mod_client, reply, "Spam or advertising")
    assert "already removed" in response.get_data(as_text=True)
    assert board.post(reply).removal_reason == "Off-topic"
    assert len(board.log(action="remove")) == 1


def test_a_reason_sent_as_free_text_is_kept_as_given(mod_client, board, member):
    topic_id, _ = board.topic(member)
    reply = board.reply(topic_id, member)
    remove(mod_client, reply, "Selling supplements")
    assert board.post(reply).removal_reason == "Selling supplements"


def test_the_author_of_a_removed_topic_sees_why_and_can_do_nothing_more(app, mod_client, board, member, member_client, make_user):
    from tests.conftest import sign_in

    other = make_user("other@example.com", "Olly Other")
    topic_id, first = board.topic(member, title="My miracle protocol")
    mine = board.reply(topic_id, member, body="An update on my protocol.")
    theirs = board.reply(topic_id, other, body="Please ask your doctor first.")
    remove(mod_client, first, "Unsafe dosing or treatment advice")

    page = member_client.get(f"/forum/t/{topic_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "A moderator removed this topic. Only you and the moderators can see it." in html
    assert "Only you can see why it was removed: <strong>Unsafe dosing or treatment advice" in html
    assert "This topic was removed by a moderator, so no replies can be added." in html
    assert f"/forum/p/{theirs}/report" not in html  # nothing to report in a topic no reader can see
    assert member_client.get(f"/forum/p/{theirs}/report").status_code == 404
    assert member_client.get(f"/forum/p/{mine}/edit").status_code == 403

    other_client = app.test_client()
    sign_in(other_client, other)
    assert other_client.get(f"/forum/t/{topic_id}").status_code == 404  # a reply in it does not make it yours
    assert app.test_client().get(f"/forum/t/{topic_id}").status_code == 404


def test_the_remove_page_shows_the_post_and_warns_about_first_posts(mod_client, board, member):
    _, first = board.topic(member, body="The *first* post")
    html = mod_client.get(f"/moderation/p/{first}/remove").get_data(as_text=True)
    assert "<em>first</em>" in html
    assert "removes the whole topic" in html
    assert '<select class="input " id="reason" name="reason"' in html or 'id="reason"' in html


def test_removing_the_first_post_removes_the_topic(mod_client, board, member, client):
    topic_id, first = board.topic(member, title="Miracle cure thread")
    reply = board.reply(topic_id, member)
    response = remove(mod_client, first, "Spam or advertising")
    assert "the whole topic is removed" in response.get_data(as_text=True)
    assert board.topic_row(topic_id).status == "removed"
    assert board.post(reply).status == "published"  # replies keep their own state, hidden with the topic
    assert board.outbox("topic", topic_id) == 2 and board.outbox("post", reply) == 2  # created, then this action
    assert len(board.log()) == 1  # one action, one entry
    assert client.get(f"/forum/t/{topic_id}").status_code == 404
    assert "Miracle cure thread" not in client.get("/forum/").get_data(as_text=True)
    # Restoring the first post brings the topic back exactly.
    restored = act(mod_client, first, "restore")
    assert "Post and its topic restored." in restored.get_data(as_text=True)
    assert board.topic_row(topic_id).status == "published"
    assert "Miracle cure thread" in client.get("/forum/").get_data(as_text=True)


# ---- restore -------------------------------------------------------------------------------


def test_restore_reverses_a_removal_exactly(mod_client, board, member):
    topic_id, _ = board.topic(member)
    reply = board.reply(topic_id, member)
    held = board.reply(topic_id, member, status="pending")
    remove(mod_client, reply, "Off-topic")
    remove(mod_client, held, "Spam or advertising")
    act(mod_client, reply, "restore")
    post = board.post(reply)
    assert (post.status, post.removed_at, post.removed_by_id, post.removal_reason) == ("published", None, None, None)
    response = act(mod_client, held, "restore")
    assert "back in the queue" in response.get_data(as_text=True)
    assert board.post(held).status == "pending"  # it was waiting for approval before it was removed
    assert f'id="item-{held}"' in mod_client.get("/moderation/").get_data(as_text=True)
    entries = board.log(action="restore")
    assert [(e.target_id, e.previous_state, e.new_state) for e in entries] == [
        (reply, "removed", "published"),
        (held, "removed", "pending"),
    ]


def test_restoring_a_post_that_is_not_removed_changes_nothing(mod_client, board, member):
    topic_id, _ = board.topic(member)
    reply = board.reply(topic_id, member)
    response = act(mod_client, reply, "restore")
    assert "nothing to restore" in response.get_data(as_text=True)
    assert board.log() == []


# ---- dismiss -------------------------------------------------------------------------------


def test_dismiss_resolves_open_reports_and_keeps_the_post(app, mod_client, board, member, moderator, make_user):
    topic_id, _ = board.topic(member)
    reply = board.reply(topic_id, member)
    for i in range(2):
        board.report(reply, make_user(f"r{i}@example.com", f"Reporter {i}"), reason=f"reason {i}")
    response = act(mod_client, reply, "dismiss")
    assert "2 reports dismissed" in response.get_data(as_text=True)
    assert board.post(reply).status == "published"
    [entry] = board.log(action="dismiss_reports")
    assert entry.target_id == reply and entry.moderator_id == moderator.id
    assert f'id="item-{reply}"' not in mod_client.get("/moderation/").get_data(as_text=True)
    again = act(mod_client, reply, "dismiss")
    assert "no open reports" in again.get_data(as_text=True)
    assert len(board.log()) == 1


@pytest.mark.sqlite_only
def test_after_an_action_the_moderator_goes_back_where_they_were(mod_client, board, member):
    topic_id, _ = board.topic(member)
    held = board.reply(topic_id, member, status="pending")
    response = mod_client.post(
        f"/moderation/p/{held}/approve", data={"csrf_token": token(mod_client), "next": f"/forum/t/{topic_id}#post-{held}"}
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/forum/t/{topic_id}#post-{held}"
    other = board.reply(topic_id, member, status="pending")
    evil = mod_client.post(f"/moderation/p/{other}/approve", data={"csrf_token": token(mod_client), "next": "//evil.example/"})
    assert evil.headers["Location"] == "/moderation/"


def test_the_log_names_the_reason_for_each_removal(mod_client, board, member):
    topic_id, _ = board.topic(member, title="Sleep and LDN")
    reply = board.reply(topic_id, member)
    remove(mod_client, reply, "Personal information", "Included a phone number.")
    html = mod_client.get("/moderation/log").get_data(as_text=True)
    assert "Removed post" in html and "Personal information: Included a phone number." in html
    assert re.search(r"Post by [^<]+ from [^<]+ in “Sleep and LDN”", html)
