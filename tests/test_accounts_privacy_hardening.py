"""Security notices ignore the opt-out; the export is complete; deletion unlinks the mail queue; no addresses in logs."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ldnsite.db import get_session
from ldnsite.mail.models import OutboundMessage
from ldnsite.mail.suppression import suppress
from tests.conftest import Auth, post_form, sign_in

pytestmark = pytest.mark.both_databases


def opt_out(app, address: str) -> None:
    with app.app_context():
        s = get_session()
        suppress(s, address)
        s.commit()


def test_password_reset_notice_reaches_an_opted_out_owner(app, client, make_user, outbox):
    make_user()
    opt_out(app, "member@example.com")  # anyone can opt any address out
    post_form(client, "/account/reset", {"email": "member@example.com"})
    link = outbox.link(outbox.messages(to="member@example.com")[0], "/account/reset/")
    post_form(client, link, {"new_password": "violet canyon sparrow"})
    subjects = [m["Subject"] for m in outbox.messages(to="member@example.com")]
    assert subjects == ["Reset your password", "Your password was changed"]


def test_email_changed_notice_reaches_an_opted_out_old_address(app, make_user, outbox):
    from ldnsite.accounts import emails
    from ldnsite.accounts.models import User

    user = make_user()
    opt_out(app, "member@example.com")
    with app.test_request_context():
        s = get_session()
        member = s.get(User, user.id)
        member.email = "new@example.com"
        emails.send_email_changed(s, member, "member@example.com")
        s.commit()
    [notice] = outbox.messages(to="member@example.com")
    assert notice["Subject"] == "Your email address was changed"


def test_the_privacy_page_says_security_notices_ignore_the_opt_out(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert "security notices" in page and "even after an opt-out" in page


def test_export_has_suspensions_moderation_decisions_removal_reasons_and_mail(app, client, make_user, board, outbox):
    from ldnsite.accounts.models import User
    from ldnsite.forum.models import Post
    from ldnsite.moderation import actions

    member = make_user()
    moderator = make_user(email="mod@example.com", name="Moderator", role="moderator")
    topic_id, _ = board.topic(member, title="Dose question")
    reply_id = board.reply(topic_id, member, body="Take ten times the dose.")
    with app.test_request_context():
        s = get_session()
        actions.remove_post(s, s.get(Post, reply_id), s.get(User, moderator.id), "Dangerous dose advice")
        actions.suspend_member(s, s.get(User, member.id), s.get(User, moderator.id), "Repeated dose advice", 7)
        s.commit()
    sign_in(client, member)
    data = json.loads(client.get("/account/export").get_data(as_text=True))
    assert [s["reason"] for s in data["suspensions"]] == ["Repeated dose advice"]
    assert {(e["about"], e["reason"]) for e in data["moderation_decisions"]} >= {
        ("post", "Dangerous dose advice"),
        ("user", "Repeated dose advice"),
    }
    assert all(e["by"] == "a moderator" for e in data["moderation_decisions"])
    assert "mod@example.com" not in json.dumps(data) and "Moderator" not in json.dumps(data)
    assert data["removal_reasons"] == [
        {"post_id": reply_id, "reason": "Dangerous dose advice", "removed_at": data["removal_reasons"][0]["removed_at"]}
    ]
    assert data["mail_sent_to_you"], "the removal and suspension notices were mailed"
    assert {m["kind"] for m in data["mail_sent_to_you"]} == {"moderation"}


def test_after_deletion_the_mail_queue_holds_no_address_and_no_key_naming_the_account(app, client, make_user, outbox):
    user = make_user()
    post_form(client, "/account/reset", {"email": "member@example.com"})  # sent mail keyed reset:<id>:1
    Auth(client).login()
    response = post_form(client, "/account/delete", {"password": "correct horse battery", "confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        rows = get_session().scalars(select(OutboundMessage)).all()
    assert rows
    for row in rows:
        assert row.to_addr == "" and row.text_body == ""
        assert str(user.id) not in row.dedupe_key.split(":")[1:] or row.dedupe_key.startswith("forgotten:")
        assert not row.dedupe_key.startswith(("reset:", "verify:"))


def test_refused_addresses_stay_out_of_logs_and_last_error(app, db, smtp_server, caplog):
    from ldnsite.mail.delivery import deliver
    from ldnsite.mail.mailer import queue
    from tests.fixtures_mail import smtp_config

    app.config.update(**smtp_config(smtp_server), MAIL_DELIVER_ON_COMMIT=False)
    for address in ("bounce@example.com", "greylist@example.com"):
        queue(
            db,
            to=address,
            subject="A reply",
            template="mail_opt_in",
            context={"confirm_url": "http://x"},
            category="notification",
            dedupe_key=f"reply:1:{address}",
        )
    db.commit()
    with caplog.at_level(logging.INFO):
        deliver(app, due_only=False)
        app.logger.error("a message that quotes %s", "bounce@example.com")
    assert "example.com" not in caplog.text
    assert "<address>" in caplog.text
    errors = [m.last_error for m in db.scalars(select(OutboundMessage)).all()]
    assert all(e and "@" not in e for e in errors), errors


def test_export_has_followed_topics_report_reasons_and_withdrawn_posts(app, client, make_user, board):
    from ldnsite.forum.models import Post, Report

    member = make_user()
    other = make_user(email="other@example.com", name="Other")
    topic_id, first_id = board.topic(member, title="Dose question")
    theirs, _ = board.topic(other, title="Someone else's topic")
    reply_id = board.reply(theirs, other, body="Take ten times the dose.")
    with app.app_context():
        s = get_session()
        s.add(
            Report(
                post_id=reply_id,
                reporter_id=member.id,
                reason="Unsafe or misleading medical advice",
                category="medical",
                details="Suggests a full dose.",
            )
        )
        s.get(Post, first_id).withdrawn_at = datetime.now(UTC).replace(tzinfo=None)
        s.commit()
    sign_in(client, member)
    data = json.loads(client.get("/account/export").get_data(as_text=True))
    assert [f["topic_id"] for f in data["topics_followed"]] == [topic_id]  # the author follows their own topic
    assert [(r["category"], r["details"]) for r in data["reports_made"]] == [("medical", "Suggests a full dose.")]
    assert [p["withdrawn_at"] is not None for p in data["posts"] if p["id"] == first_id] == [True]
