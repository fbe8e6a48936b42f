"""`flask users create`, `set-role` and `purge-unconfirmed`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ldnsite.accounts.models import User

pytestmark = pytest.mark.both_databases

PASSWORD = "granite teapot meadow"


def run(app, *args, input: str | None = None):
    return app.test_cli_runner().invoke(args=["users", *args], input=input)


def account(query, email):
    with query() as db:
        return db.scalar(select(User).where(User.email == email))


def test_create_makes_an_active_verified_account_that_can_sign_in(app, query, auth):
    result = run(app, "create", "Mod@Example.com", "--name", "Mod Erator", "--role", "moderator", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "created moderator Mod Erator <mod@example.com>" in result.output
    user = account(query, "mod@example.com")
    assert user.role == "moderator"
    assert user.verified_at is not None
    assert user.is_active
    assert PASSWORD not in result.output
    assert auth.login("mod@example.com", PASSWORD).status_code == 302


def test_create_defaults_to_member(app, query):
    assert run(app, "create", "m@example.com", "--name", "Plain", "--password-stdin", input=PASSWORD).exit_code == 0
    assert account(query, "m@example.com").role == "member"


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["taken@example.com", "--name", "Other Name"], PASSWORD, "already exists"),
        (["TAKEN@example.com", "--name", "Other Name"], PASSWORD, "already exists"),
        (["new@example.com", "--name", "Taken Name"], PASSWORD, "already taken"),
        (["not-an-email", "--name", "Some Name"], PASSWORD, "correct format"),
        (["new@example.com", "--name", "X"], PASSWORD, "at least 2 characters"),
        (["new@example.com", "--name", "Some Name"], "short", "at least 8 characters"),
        (["new@example.com", "--name", "Some Name"], "password123", "too common"),
        (["new@example.com", "--name", "Some Name"], "", "at least 8 characters"),
        (["new@example.com", "--name", "Site Admin"], PASSWORD, "must not look like a moderator"),  # a member
    ],
)
def test_create_refuses_bad_input_with_exit_code_1(app, query, make_user, args, password, message):
    make_user(email="taken@example.com", name="Taken Name")
    result = run(app, "create", *args, "--password-stdin", input=password + "\n")
    assert result.exit_code == 1
    assert message in result.output
    assert account(query, "new@example.com") is None
    with query() as db:
        assert len(db.scalars(select(User)).all()) == 1


@pytest.mark.sqlite_only
def test_create_refuses_an_unknown_role(app, query):
    result = run(app, "create", "new@example.com", "--name", "Some Name", "--role", "king", "--password-stdin", input=PASSWORD)
    assert result.exit_code != 0
    assert account(query, "new@example.com") is None


def test_set_role(app, query, make_user):
    make_user(email="someone@example.com")
    result = run(app, "set-role", "Someone@example.com", "admin")
    assert result.exit_code == 0, result.output
    assert account(query, "someone@example.com").role == "admin"
    assert run(app, "set-role", "someone@example.com", "member").exit_code == 0
    assert account(query, "someone@example.com").role == "member"


def test_set_role_refuses_unknown_accounts_and_roles(app, query, make_user):
    make_user(email="someone@example.com")
    missing = run(app, "set-role", "nobody@example.com", "admin")
    assert missing.exit_code == 1
    assert "No account has the email address" in missing.output
    bad_role = run(app, "set-role", "someone@example.com", "owner")
    assert bad_role.exit_code != 0
    assert account(query, "someone@example.com").role == "member"


def test_purge_unconfirmed_removes_only_old_unconfirmed_accounts(app, query, make_user, make_topic):
    from datetime import timedelta

    from ldnsite.db import get_session, utcnow
    from ldnsite.forum.models import Report
    from ldnsite.mail.models import OutboundMessage

    old = utcnow() - timedelta(days=20)
    stale = make_user(email="stale@example.com", name="Stale", verified=False)
    reporter = make_user(email="reporter@example.com", name="Reporter", verified=False)
    make_user(email="fresh@example.com", name="Fresh", verified=False)
    confirmed = make_user(email="confirmed@example.com", name="Confirmed")
    _topic_id, post_id = make_topic(confirmed)
    with app.app_context():
        db = get_session()
        for user_id in (stale.id, reporter.id, confirmed.id):
            db.get(User, user_id).created_at = old
        db.add(Report(post_id=post_id, reporter_id=reporter.id, reason="spam"))
        waiting = OutboundMessage(
            dedupe_key=f"verify:{stale.id}:1",
            category="account",
            to_addr="stale@example.com",
            subject="s",
            text_body="t",
            html_body="h",
            next_attempt_at=utcnow(),
        )
        db.add(waiting)
        db.commit()
        waiting_id = waiting.id

    result = run(app, "purge-unconfirmed", "--days", "14")
    assert result.exit_code == 0, result.output
    assert "removed 1 unconfirmed accounts older than 14 days; anonymised 1" in result.output
    assert account(query, "stale@example.com") is None
    assert account(query, "fresh@example.com") is not None  # too recent: the link may still be on its way
    assert account(query, "confirmed@example.com") is not None
    assert account(query, "reporter@example.com") is None
    with query() as db:
        anonymised = db.get(User, reporter.id)
        assert anonymised.deleted_at is not None and anonymised.display_name == "Deleted member"
        assert db.scalar(select(Report.reporter_id)) == reporter.id
        # The removed account's waiting mail is cancelled and keeps neither its address nor its account id.
        mail = db.get(OutboundMessage, waiting_id)
        assert mail.cancelled_at is not None and mail.sent_at is None
        assert (mail.to_addr, mail.text_body, mail.dedupe_key) == ("", "", f"forgotten:{waiting_id}")

    again = run(app, "purge-unconfirmed")
    assert again.exit_code == 0 and "removed 0" in again.output


@pytest.mark.sqlite_only
def test_purge_unconfirmed_refuses_a_nonsense_age(app):
    result = run(app, "purge-unconfirmed", "--days", "0")
    assert result.exit_code != 0 and "0 is not in the range" in result.output
