"""Members: locks on topics, suspensions and lifting them, roles managed by admins, the member page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ldnsite.db import get_session, utcnow
from tests.fixtures_moderation import sign_in, token

pytestmark = pytest.mark.both_databases


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": token(client), **data}, follow_redirects=True)


# ---- locks ---------------------------------------------------------------------------------


def test_lock_and_unlock_a_topic(mod_client, board, member, moderator, member_client):
    topic_id, _ = board.topic(member)
    response = post(mod_client, f"/moderation/t/{topic_id}/lock")
    assert "Topic locked." in response.get_data(as_text=True)
    assert board.topic_row(topic_id).locked_at is not None
    assert board.outbox("topic", topic_id) == 2  # one row when it was created, one for this action
    # Members can read a locked topic but not reply.
    page = member_client.get(f"/forum/t/{topic_id}")
    assert page.status_code == 200 and "This topic is locked" in page.get_data(as_text=True)
    refused = member_client.post(f"/forum/t/{topic_id}/reply", data={"csrf_token": token(member_client), "body": "Me too!"})
    assert refused.status_code == 403
    again = post(mod_client, f"/moderation/t/{topic_id}/lock")
    assert "already locked" in again.get_data(as_text=True)
    post(mod_client, f"/moderation/t/{topic_id}/unlock")
    assert board.topic_row(topic_id).locked_at is None
    assert "was not locked" in post(mod_client, f"/moderation/t/{topic_id}/unlock").get_data(as_text=True)
    assert [e.action for e in board.log()] == ["lock", "unlock"]
    assert all(e.target_type == "topic" and e.target_id == topic_id and e.moderator_id == moderator.id for e in board.log())


def test_topic_page_shows_moderators_their_controls(mod_client, member_client, board, member):
    topic_id, first = board.topic(member)
    reply = board.reply(topic_id, member)
    html = mod_client.get(f"/forum/t/{topic_id}").get_data(as_text=True)
    assert f'action="/moderation/t/{topic_id}/lock"' in html
    assert f'href="/moderation/p/{reply}/remove?next=' in html
    assert f'href="/moderation/p/{first}/remove?next=' in html
    assert "/moderation/" not in member_client.get(f"/forum/t/{topic_id}").get_data(as_text=True).replace('href="/moderation/"', "")


# ---- suspensions ---------------------------------------------------------------------------


def test_suspend_for_a_period_then_lift(app, mod_client, board, member, moderator, member_client, make_user):
    topic_id, _ = board.topic(member)
    others_post = board.reply(topic_id, make_user("other@example.com", "Olga Other"))
    response = post(mod_client, f"/moderation/u/{member.id}/suspend", reason="Repeated dosing advice after warnings", period="7")
    assert "is suspended (7 days)" in response.get_data(as_text=True)
    from ldnsite.accounts.models import Suspension

    with app.app_context():
        [suspension] = get_session().query(Suspension).all()
        assert suspension.user_id == member.id and suspension.moderator_id == moderator.id
        assert timedelta(days=6, hours=23) < suspension.ends_at - utcnow() <= timedelta(days=7)
    [entry] = board.log(action="suspend")
    assert (entry.target_type, entry.target_id, entry.new_state) == ("user", member.id, "7 days")
    assert entry.reason == "Repeated dosing advice after warnings"

    # Suspended: still reads and stays signed in, but cannot reply or report.
    page = member_client.get(f"/forum/t/{topic_id}")
    assert page.status_code == 200 and "Your account is suspended" in page.get_data(as_text=True)
    reply = member_client.post(f"/forum/t/{topic_id}/reply", data={"csrf_token": token(member_client), "body": "Still here"})
    assert reply.status_code == 403
    report = member_client.post(f"/forum/p/{others_post}/report", data={"csrf_token": token(member_client), "reason": "Spam"})
    assert report.status_code == 403
    assert member_client.get("/account/settings").status_code == 200

    again = post(mod_client, f"/moderation/u/{member.id}/suspend", reason="Again", period="1")
    assert "already suspended" in again.get_data(as_text=True)
    assert len(board.log(action="suspend")) == 1

    lifted = post(mod_client, f"/moderation/u/{member.id}/lift")
    assert "Suspension lifted." in lifted.get_data(as_text=True)
    with app.app_context():
        [suspension] = get_session().query(Suspension).all()
        assert suspension.lifted_at is not None and suspension.lifted_by_id == moderator.id
    assert "is not suspended" in post(mod_client, f"/moderation/u/{member.id}/lift").get_data(as_text=True)
    assert [e.action for e in board.log()] == ["suspend", "lift_suspension"]
    assert "Your account is suspended" not in member_client.get(f"/forum/t/{topic_id}").get_data(as_text=True)
    report = member_client.post(f"/forum/p/{others_post}/report", data={"csrf_token": token(member_client), "reason": "Spam"})
    assert report.status_code in (302, 303)  # after the lift, reporting works again


def test_indefinite_suspension(app, mod_client, member):
    post(mod_client, f"/moderation/u/{member.id}/suspend", reason="Spam account", period="indefinite")
    from ldnsite.accounts.models import Suspension
    from ldnsite.accounts.suspensions import is_suspended

    with app.app_context():
        [suspension] = get_session().query(Suspension).all()
        assert suspension.ends_at is None
        assert is_suspended(get_session(), member.id)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "", "period": "7"}, "Give a reason for the suspension"),
        ({"reason": "   ", "period": "7"}, "Give a reason for the suspension"),
        ({"reason": "Spam", "period": "forever"}, "Not a valid choice"),
    ],
)
def test_suspend_with_bad_input_is_refused_and_changes_nothing(mod_client, member, board, data, message):
    response = mod_client.post(f"/moderation/u/{member.id}/suspend", data={"csrf_token": token(mod_client), **data})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and message in html
    assert board.log() == []


def test_staff_and_yourself_cannot_be_suspended(mod_client, admin, moderator, board):
    for target in (admin, moderator):
        data = {"csrf_token": token(mod_client), "reason": "x", "period": "1"}
        response = mod_client.post(f"/moderation/u/{target.id}/suspend", data=data)
        assert response.status_code == 422
    assert board.log() == []


def test_member_page_shows_history(mod_client, board, member):
    topic_id, _ = board.topic(member, title="Night sweats on LDN")
    reply = board.reply(topic_id, member)
    post(mod_client, f"/moderation/p/{reply}/remove", reason="Off-topic")
    post(mod_client, f"/moderation/u/{member.id}/suspend", reason="Warned twice", period="1")
    html = mod_client.get(f"/moderation/u/{member.id}").get_data(as_text=True)
    assert "Member: Sam Member" in html
    assert "Published posts</dt><dd>1</dd>" in html and "Removed posts</dt><dd>1</dd>" in html
    assert "Suspensions</dt><dd>1" in html and "Warned twice" in html
    assert "Night sweats on LDN" in html and "removed: Off-topic" in html
    assert "Removed post" in html and "Suspended member" in html  # the member's moderation history


def test_members_list_and_search(mod_client, make_user, member):
    make_user("jo@example.com", "Jo Fibro")
    html = mod_client.get("/moderation/users?q=fibro").get_data(as_text=True)
    assert "Jo Fibro" in html and "Sam Member" not in html
    assert "Sam Member" in mod_client.get("/moderation/users").get_data(as_text=True)
    assert "1 member matching" in mod_client.get("/moderation/users?q=member%40").get_data(as_text=True)
    assert "0 members" in mod_client.get("/moderation/users?q=%25").get_data(as_text=True)  # wildcards are literal
    make_user("zoe@example.com", "Zoë Ärger")
    assert "Zoë Ärger" in mod_client.get("/moderation/users?q=ÄRGER").get_data(as_text=True)  # case-insensitive beyond ASCII


# ---- roles ---------------------------------------------------------------------------------


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    sign_in(client, admin)
    return client


def test_admin_changes_roles_with_a_log_entry(admin_client, admin, member, board, app):
    response = post(admin_client, f"/moderation/u/{member.id}/role", role="moderator")
    assert "Sam Member is now a moderator." in response.get_data(as_text=True)
    [entry] = board.log(action="change_role")
    assert (entry.moderator_id, entry.target_id, entry.previous_state, entry.new_state) == (admin.id, member.id, "member", "moderator")
    # The new moderator can use the queue at once.
    client = app.test_client()
    sign_in(client, member)
    assert client.get("/moderation/").status_code == 200
    same = post(admin_client, f"/moderation/u/{member.id}/role", role="moderator")
    assert "already has the role" in same.get_data(as_text=True)
    assert len(board.log()) == 1


def test_admins_cannot_demote_themselves(admin_client, admin, board):
    response = admin_client.post(f"/moderation/u/{admin.id}/role", data={"csrf_token": token(admin_client), "role": "member"})
    assert response.status_code == 422
    assert "You cannot remove your own admin role" in response.get_data(as_text=True)
    assert admin_client.get("/moderation/").status_code == 200
    assert board.log() == []


def test_unknown_role_is_refused(admin_client, member, board):
    response = admin_client.post(f"/moderation/u/{member.id}/role", data={"csrf_token": token(admin_client), "role": "owner"})
    assert response.status_code == 422
    assert board.log() == []


def test_role_form_is_shown_to_admins_only(admin_client, mod_client, member):
    assert f'action="/moderation/u/{member.id}/role"' in admin_client.get(f"/moderation/u/{member.id}").get_data(as_text=True)
    assert f'action="/moderation/u/{member.id}/role"' not in mod_client.get(f"/moderation/u/{member.id}").get_data(as_text=True)
