"""The account page: display name, password, notifications, email preferences, export and deletion."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from ldnsite.accounts.models import User
from ldnsite.db import utcnow
from ldnsite.forum.models import Post, PostRevision, Report, Topic
from ldnsite.mail.models import OutboundMessage
from tests.conftest import post_form

pytestmark = pytest.mark.both_databases

PASSWORD = "correct horse battery"
NEW = "violet canyon sparrow"


@pytest.fixture
def member(make_user, auth):
    user = make_user(role="moderator")
    assert auth.login().status_code == 302
    return user


def fresh(query, user_id) -> User:
    with query() as db:
        return db.get(User, user_id)


def test_settings_needs_sign_in(client):
    response = client.get("/account/settings")
    assert response.status_code == 302
    assert "/account/login?next=" in response.headers["Location"]
    for path in ("/account/export", "/account/delete", "/account/settings/password", "/account/settings/display-name"):
        assert client.get(path).status_code == 302


def test_settings_page_shows_the_account(client, member):
    html = client.get("/account/settings").get_data(as_text=True)
    assert "<h1>Your account</h1>" in html
    assert "member@example.com (confirmed)" in html
    assert "Download your data" in html and "Delete your account" in html
    assert 'aria-current="page">Your account' in html


def test_change_display_name(client, query, member, make_user):
    make_user(email="other@example.com", name="Someone Else")
    taken = post_form(client, "/account/settings/display-name", {"display_name": "someone else"})
    assert taken.status_code == 422, taken.get_data(as_text=True)
    assert "already taken" in taken.get_data(as_text=True)
    assert fresh(query, member.id).display_name == "Member"

    assert 'value="Member"' in client.get("/account/settings/display-name").get_data(as_text=True)
    done = post_form(client, "/account/settings/display-name", {"display_name": "  Renamed   Member "})
    assert done.status_code == 302
    assert fresh(query, member.id).display_name == "Renamed Member"
    # Changing only the case of one's own name is allowed.
    assert post_form(client, "/account/settings/display-name", {"display_name": "renamed member"}).status_code == 302


def test_a_rename_racing_another_account_for_the_name_is_refused(client, query, member, make_user, monkeypatch):
    from ldnsite.accounts import validation

    make_user(email="other@example.com", name="Someone Else")
    monkeypatch.setattr(validation, "display_name_problem", lambda *args, **kwargs: None)  # as if checked before it was taken
    response = post_form(client, "/account/settings/display-name", {"display_name": "SOMEONE ELSE"})
    assert response.status_code == 422
    assert "already taken" in response.get_data(as_text=True)
    assert fresh(query, member.id).display_name == "Member"


def test_deleted_accounts_free_their_names_and_do_not_collide(query, make_user, register):
    from ldnsite.accounts.mydata import delete_account

    ids = [make_user(email=f"gone{n}@example.com", name=f"Gone {n}").id for n in range(2)]
    with query() as db:
        for user_id in ids:
            delete_account(db, db.get(User, user_id))
        db.commit()  # two "Deleted member" accounts side by side
    assert [fresh(query, i).display_name for i in ids] == ["Deleted member", "Deleted member"]
    assert register(email="new@example.com", display_name="Gone 0").status_code == 302


def test_reply_notifications_switch(client, query, member):
    assert fresh(query, member.id).notify_replies is True
    assert 'name="notify_replies" type="checkbox" value="y" checked' in client.get("/account/settings").get_data(
        as_text=True
    ) or "checked" in client.get("/account/settings").get_data(as_text=True)
    assert post_form(client, "/account/settings/notifications", {}, form_page="/account/settings").status_code == 302
    assert fresh(query, member.id).notify_replies is False
    assert post_form(client, "/account/settings/notifications", {"notify_replies": "y"}, form_page="/account/settings").status_code == 302
    assert fresh(query, member.id).notify_replies is True


def test_change_password_keeps_this_session_and_ends_the_others(app, client, query, member, auth):
    stolen_cookie = client.get_cookie("session").value
    wrong = post_form(client, "/account/settings/password", {"current_password": "not it", "new_password": NEW})
    assert wrong.status_code == 422
    assert "Your current password is not correct" in wrong.get_data(as_text=True)
    common = post_form(client, "/account/settings/password", {"current_password": PASSWORD, "new_password": "football123"})
    assert common.status_code == 422
    assert fresh(query, member.id).session_version == 1

    done = post_form(client, "/account/settings/password", {"current_password": PASSWORD, "new_password": NEW})
    assert done.status_code == 302
    assert fresh(query, member.id).session_version == 2
    assert client.get("/account/settings").status_code == 200  # still signed in here
    assert client.get_cookie("session").value != stolen_cookie

    old_session = app.test_client()
    old_session.set_cookie("session", stolen_cookie, domain="localhost")
    assert old_session.get("/account/settings").status_code == 302  # the copied old cookie no longer works

    auth.logout()
    assert auth.login("member@example.com", PASSWORD).status_code == 422
    assert auth.login("member@example.com", NEW).status_code == 302


def test_email_preferences_show_an_opt_out_and_opt_back_in(client, query, member):
    from ldnsite.mail import suppression

    assert "Stop all emails" in client.get("/account/settings").get_data(as_text=True)
    with query() as db:
        suppression.suppress(db, "member@example.com")
        db.commit()
    html = client.get("/account/settings").get_data(as_text=True)
    assert "<strong>Stopped.</strong>" in html
    response = post_form(client, "/account/settings/email-opt-in", {}, form_page="/account/settings")
    assert response.status_code == 302
    with query() as db:
        assert not suppression.is_suppressed(db, "member@example.com")
    assert "<strong>Stopped.</strong>" not in client.get("/account/settings").get_data(as_text=True)


def test_unconfirmed_members_cannot_opt_back_in_directly(client, query, make_user, auth):
    from ldnsite.mail import suppression

    make_user(email="unsure@example.com", name="Unsure", verified=False)
    auth.login("unsure@example.com", PASSWORD)
    with query() as db:
        suppression.suppress(db, "unsure@example.com")
        db.commit()
    html = client.get("/account/settings").get_data(as_text=True)
    assert "opt back in from the stop emails page" in html
    assert post_form(client, "/account/settings/email-opt-in", {}, form_page="/account/settings").status_code == 403
    with query() as db:
        assert suppression.is_suppressed(db, "unsure@example.com")


def make_forum(query, member_id: int) -> dict:
    """A topic by someone else with a post by the member, a reply by them, and reports."""
    with query() as db:
        return _make_forum(db, member_id)


def _make_forum(db, member_id: int) -> dict:
    other = User(email="other@example.com", display_name="Other Person", password_hash="x", verified_at=utcnow())
    db.add(other)
    db.flush()
    theirs = Topic(title="Their topic about sleep", author_id=other.id)
    mine = Topic(title="My topic about LDN doses", author_id=member_id)
    db.add_all([theirs, mine])
    db.flush()
    p_other = Post(topic_id=theirs.id, author_id=other.id, body_source="Other's words", body_html="<p>Other's words</p>")
    p_reply = Post(
        topic_id=theirs.id, author_id=member_id, body_source="My *reply*", body_html="<p>My <em>reply</em></p>", edited_at=utcnow()
    )
    p_mine = Post(topic_id=mine.id, author_id=member_id, body_source="I started on 1.5 mg", body_html="<p>I started on 1.5 mg</p>")
    db.add_all([p_other, p_reply, p_mine])
    db.flush()
    db.add(PostRevision(post_id=p_reply.id, body_source="My first draft", body_html="<p>My first draft</p>"))
    db.add(Report(post_id=p_other.id, reporter_id=member_id, reason="Looks like spam"))
    db.add(Report(post_id=p_mine.id, reporter_id=other.id, reason="Their reason"))
    db.commit()
    return {"other": other.id, "reply": p_reply.id, "mine": p_mine.id, "other_post": p_other.id}


def test_export_downloads_everything_about_the_member_and_nothing_about_others(client, query, member):
    ids = make_forum(query, member.id)
    response = client.get("/account/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="ldn-guide-my-data-')
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "member@example.com"
    assert data["account"]["display_name"] == "Member"
    assert data["account"]["reply_notifications"] is True
    assert "password" not in json.dumps(data["account"])
    posts = {p["id"]: p for p in data["posts"]}
    assert set(posts) == {ids["reply"], ids["mine"]}
    assert posts[ids["reply"]]["topic_title"] == "Their topic about sleep"
    assert posts[ids["reply"]]["body_markdown"] == "My *reply*"
    assert posts[ids["reply"]]["edited_at"] is not None
    assert posts[ids["reply"]]["earlier_versions"][0]["body_markdown"] == "My first draft"
    assert posts[ids["mine"]]["created_at"].endswith("Z")
    assert [t["title"] for t in data["topics_started"]] == ["My topic about LDN doses"]
    assert [r["reason"] for r in data["reports_made"]] == ["Looks like spam"]
    text = response.get_data(as_text=True)
    assert "other@example.com" not in text
    assert "Their reason" not in text and "Other's words" not in text


def test_delete_needs_the_password(client, query, member):
    page = client.get("/account/delete").get_data(as_text=True)
    assert 'autocomplete="current-password"' in page
    wrong = post_form(client, "/account/delete", {"password": "not it"})
    assert wrong.status_code == 422
    assert "Your password is not correct" in wrong.get_data(as_text=True)
    assert fresh(query, member.id).deleted_at is None
    empty = post_form(client, "/account/delete", {"password": ""})
    assert empty.status_code == 422
    assert fresh(query, member.id).email == "member@example.com"


def test_delete_anonymises_keeps_posts_cancels_mail_and_signs_out(client, query, member, auth, register, outbox):
    ids = make_forum(query, member.id)
    with query() as db:
        for key, to in (("reply:999:test", "member@example.com"), ("reply:998:test", "other@example.com")):
            db.add(
                OutboundMessage(
                    dedupe_key=key,
                    category="notification",
                    to_addr=to,
                    subject="s",
                    text_body="t",
                    html_body="h",
                    next_attempt_at=utcnow().replace(year=2100),
                )
            )
        db.commit()

    response = post_form(client, "/account/delete", {"password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = fresh(query, member.id)
    assert user.email is None
    assert user.display_name == "Deleted member"
    assert user.password_hash == ""
    assert user.deleted_at is not None
    assert user.session_version == 2
    assert user.role == "member"

    with query() as db:
        posts = db.scalars(select(Post).where(Post.author_id == member.id)).all()
        assert {p.id for p in posts} == {ids["reply"], ids["mine"]}
        assert all(p.author.display_name == "Deleted member" for p in posts)
        pending = {m.dedupe_key: m for m in db.scalars(select(OutboundMessage))}
    [forgotten] = [m for key, m in pending.items() if key.startswith("forgotten:")]
    assert "reply:999:test" not in pending  # the key no longer links the row to anyone
    assert forgotten.cancelled_at is not None and forgotten.to_addr == ""
    assert pending["reply:998:test"].cancelled_at is None

    assert client.get("/account/settings").status_code == 302
    assert auth.login("member@example.com", PASSWORD).status_code == 422
    # The address is free again: registering it starts a new, separate account.
    assert register(email="member@example.com", display_name="Back Again").status_code == 302
    assert fresh(query, member.id).email is None


def _emails_section(html: str) -> str:
    return html[html.index('<h2 id="emails">') : html.index("<h2>Your data</h2>")]


def test_one_emails_section_shows_the_state_and_stops_all_emails(app, client, query, member):
    from ldnsite.mail.mailer import queue

    app.config["MAIL_DELIVER_ON_COMMIT"] = False  # a message still waiting in the queue when the member stops mail

    section = _emails_section(client.get("/account/settings").get_data(as_text=True))
    assert "<strong>On.</strong>" in section and "Stop all emails" in section
    assert "On: one email for each new reply" in section
    with query() as db:
        queue(
            db,
            to=member.email,
            subject="Waiting",
            template="forum_reply",
            category="notification",
            dedupe_key="t:1",
            context={
                "recipient_name": "M",
                "topic_title": "T",
                "reply_author": "A",
                "excerpt": "e",
                "post_url": "u",
                "settings_url": "s",
                "is_author": True,
                "unfollow_url": "x",
            },
        )
        db.commit()
    response = post_form(client, "/account/settings/email-opt-out", {}, form_page="/account/settings")
    assert response.status_code == 302
    section = _emails_section(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "<strong>Stopped.</strong>" in section
    assert "Off, because all emails are stopped" in section  # not shown as on while the address is opted out
    assert 'name="notify_replies"' not in section and "Start emails again" in section
    with query() as db:
        from ldnsite.mail.suppression import is_suppressed

        assert is_suppressed(db, member.email)
        assert db.scalar(select(OutboundMessage.cancelled_at).where(OutboundMessage.dedupe_key == "t:1")) is not None
    back = post_form(client, "/account/settings/email-opt-in", {}, form_page="/account/settings")
    assert back.status_code == 302
    assert "<strong>On.</strong>" in _emails_section(client.get("/account/settings").get_data(as_text=True))
