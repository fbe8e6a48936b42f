"""`flask users create` and `flask users set-role`."""

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
    result = run(app, "create", "Mod@Example.com", "--name", "Mod Erator", "--role", "moderator", "--password-stdin",
                 input=PASSWORD + "\n")
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
