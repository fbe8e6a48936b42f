"""Registration and email confirmation over HTTP."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from ldnsite.accounts.models import User
from tests.conftest import csrf_from, post_form
from tests.fixtures_accounts import STRONG_PASSWORD

pytestmark = pytest.mark.both_databases


def users(query) -> list[User]:
    with query() as db:
        return list(db.scalars(select(User).order_by(User.id)))


@pytest.mark.sqlite_only
def test_register_page_fields_have_names_labels_and_autocomplete(client):
    html = client.get("/account/register").get_data(as_text=True)
    assert re.search(r'<input[^>]*autocomplete="email"[^>]*name="email"[^>]*type="email"', html)
    assert re.search(r'<input[^>]*autocomplete="nickname"[^>]*name="display_name"', html)
    assert re.search(r'<input[^>]*autocomplete="new-password"[^>]*name="password"[^>]*type="password"', html)
    for field_id in ("email", "display_name", "password", "website"):
        assert f'<label class="label " for="{field_id}"' in html or f'<label for="{field_id}"' in html
    honeypot = re.search(r"<input[^>]*name=\"website\"[^>]*>", html).group(0)
    assert 'tabindex="-1"' in honeypot and 'autocomplete="off"' in honeypot
    assert "Leave this field empty" in html
    assert "onpaste" not in html  # pasting from a password manager is allowed


def test_register_verify_sign_in(client, query, register, outbox, auth):
    response = register(email="  Ann.Smith@Example.COM ", display_name="Ann S")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/register/check-email")
    assert "Check your email" in client.get("/account/register/check-email").get_data(as_text=True)

    [user] = users(query)
    assert user.email == "ann.smith@example.com"
    assert user.display_name == "Ann S"
    assert user.password_hash.startswith("scrypt:") and STRONG_PASSWORD not in user.password_hash
    assert user.verified_at is None

    [mail] = outbox.messages(to="ann.smith@example.com")
    assert mail["Subject"] == "Confirm your email address"
    link = outbox.link(mail, "/account/verify/")

    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm my email address" in page.get_data(as_text=True)
    assert users(query)[0].verified_at is None  # opening the link changes nothing
    done = client.post(link, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 200
    assert "Your email address is confirmed" in done.get_data(as_text=True)
    assert users(query)[0].verified_at is not None

    again = client.get(link)
    assert "already confirmed" in again.get_data(as_text=True)

    # Confirming signed Ann in; signing out and in again with the password works too.
    assert client.get("/account/settings").status_code == 200
    auth.logout()
    signed_in = auth.login("ann.smith@example.com", STRONG_PASSWORD)
    assert signed_in.status_code == 302
    settings = client.get("/account/settings").get_data(as_text=True)
    assert "ann.smith@example.com (confirmed)" in settings

    export = client.get("/account/export")
    assert export.get_json()["account"] == {
        "email": "ann.smith@example.com",
        "display_name": "Ann S",
        "role": "member",
        "created_at": export.get_json()["account"]["created_at"],
        "email_confirmed_at": export.get_json()["account"]["email_confirmed_at"],
        "reply_notifications": True,
        "opted_out_of_email": False,
    }
    assert post_form(client, "/account/delete", {"password": STRONG_PASSWORD}).status_code == 302
    [gone] = users(query)
    assert (gone.email, gone.display_name, gone.password_hash) == (None, "Deleted member", "")
    assert auth.login("ann.smith@example.com", STRONG_PASSWORD).status_code == 422


def test_an_opted_out_address_gets_no_confirmation_and_is_told_how_to_opt_back_in(client, query, register, outbox, auth):
    from ldnsite.mail import suppression

    with query() as db:
        suppression.suppress(db, "quiet@example.com")
        db.commit()
    assert register(email="quiet@example.com", display_name="Quiet One").status_code == 302
    assert len(users(query)) == 1
    assert outbox.messages(to="quiet@example.com") == []
    auth.login("quiet@example.com", STRONG_PASSWORD)
    settings = client.get("/account/settings").get_data(as_text=True)
    assert "This address is on our opt-out list" in settings
    assert 'href="/opt-out"' in settings
    post_form(client, "/account/verify/resend", {}, form_page="/account/settings")
    assert "on our opt-out list, so we could not send" in client.get("/account/settings").get_data(as_text=True)
    assert outbox.messages(to="quiet@example.com") == []


def test_registering_a_known_address_looks_the_same_and_emails_the_owner(client, query, register, outbox, make_user):
    make_user(email="owner@example.com", name="Owner")
    new = register(email="fresh@example.com", display_name="Fresh One")
    known = register(email="OWNER@example.com", display_name="Someone Else")
    assert known.status_code == new.status_code == 302
    assert known.headers["Location"] == new.headers["Location"]

    assert [u.email for u in users(query)] == ["owner@example.com", "fresh@example.com"]
    [notice] = outbox.messages(to="owner@example.com")
    assert notice["Subject"] == "Someone tried to register with your email address"
    assert "/account/verify/" not in outbox.text(notice)
    assert "/account/reset" in outbox.text(notice)
    assert users(query)[0].display_name == "Owner"


def test_repeated_attempts_on_a_known_address_send_one_notice_an_hour(register, outbox, make_user):
    make_user(email="owner@example.com", name="Owner")
    for name in ("Try One", "Try Two", "Try Three"):
        register(email="owner@example.com", display_name=name)
    assert len(outbox.messages(to="owner@example.com")) == 1


@pytest.mark.sqlite_only
@pytest.mark.parametrize("password", ["password123", "Qwerty123", "iloveyou1", "12345678", "P@ssw0rd"])
def test_common_passwords_are_refused(query, register, outbox, password):
    response = register(password=password)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert '<a href="#password">That password is too common' in html
    assert users(query) == []
    assert outbox.messages() == []


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter an email address in the correct format"),
        ({"email": ""}, "email", "Enter your email address"),
        ({"email": "a" * 250 + "@example.com"}, "email", "254 characters or fewer"),
        ({"display_name": "A"}, "display_name", "at least 2 characters"),
        ({"display_name": "x" * 41}, "display_name", "40 characters or fewer"),
        ({"display_name": "me@example.com"}, "display_name", "must not contain @"),
        ({"display_name": "Deleted Member"}, "display_name", "reserved"),
        ({"display_name": "Moderator Team"}, "display_name", "must not look like a moderator"),
        ({"display_name": "Site Admin"}, "display_name", "must not look like a moderator"),
        ({"display_name": "LDN Guide Team"}, "display_name", "must not look like a moderator"),
        ({"display_name": "\u0391dmin"}, "display_name", "must not look like a moderator"),  # Greek capital alpha
        ({"display_name": "M0derator"}, "display_name", "must not look like a moderator"),
        ({"display_name": "Staff"}, "display_name", "must not look like a moderator"),
        ({"display_name": "0fficial \u0405upport"}, "display_name", "must not look like a moderator"),  # Cyrillic S
        ({"password": "short"}, "password", "at least 8 characters"),
        ({"password": "p" * 257}, "password", "256 characters or fewer"),
        ({"password": "new member", "display_name": "New Member"}, "password", "must not be your email address or display name"),
    ],
)
def test_bad_input_is_refused_with_the_message_by_the_field(query, register, data, field, message):
    response = register(**data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<a href="#{field}">' in html  # error summary links to the field
    assert re.search(rf'id="{field}-error"[^>]*><span class="visually-hidden">Error:</span> [^<]*{re.escape(message)}', html)
    assert 'aria-invalid="true"' in html
    assert "plum orbit" not in html  # the password is never echoed back
    assert users(query) == []


@pytest.mark.sqlite_only
@pytest.mark.parametrize("name", ["Badminton Bob", "Amanda", "Ed Modest", "Dominic"])
def test_names_that_merely_contain_staff_letters_are_accepted(query, register, name):
    assert register(display_name=name).status_code == 302


def test_invisible_characters_are_stripped_from_display_names(query, register):
    assert register(display_name="bell\x07 na\u200bme\u202e").status_code == 302
    assert [u.display_name for u in users(query)] == ["bell name"]


@pytest.mark.sqlite_only
def test_long_password_up_to_the_limit_is_accepted(query, register):
    assert register(password="correct horse " * 18).status_code == 302  # 252 characters
    assert len(users(query)) == 1


def test_display_names_are_unique_regardless_of_case(query, register, make_user):
    make_user(email="first@example.com", name="Émile Zola")
    response = register(display_name="ÉMILE ZOLA")
    assert response.status_code == 422
    assert "That display name is already taken" in response.get_data(as_text=True)
    assert len(users(query)) == 1


def test_two_registrations_racing_for_one_name_make_one_account(query, register, monkeypatch):
    # Both pass the check in the application before either commits; the database's unique index decides.
    from ldnsite.accounts import validation

    monkeypatch.setattr(validation, "display_name_problem", lambda *args, **kwargs: None)
    assert register(email="first@example.com", display_name="Same Name").status_code == 302
    second = register(email="second@example.com", display_name="SAME name")
    assert second.status_code == 422
    assert "That display name is already taken" in second.get_data(as_text=True)
    assert [u.email for u in users(query)] == ["first@example.com"]


@pytest.mark.sqlite_only
def test_honeypot_filled_answers_like_success_but_stores_nothing(query, register, outbox):
    response = register(website="http://spam.example")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/register/check-email")
    assert users(query) == []
    assert outbox.messages() == []


@pytest.mark.sqlite_only
def test_missing_csrf_token_is_refused_and_nothing_stored(client, query, outbox):
    response = client.post("/account/register", data={"email": "x@example.com", "display_name": "No Token", "password": STRONG_PASSWORD})
    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True)
    assert users(query) == []
    assert outbox.messages() == []


def test_confirming_the_email_signs_the_member_in(app, client, query, register, outbox):
    register(email="ann@example.com", display_name="Ann S")
    link = outbox.link(outbox.messages(to="ann@example.com")[0], "/account/verify/")
    other_device = app.test_client()  # the link opened where nobody is signed in
    assert other_device.get("/account/settings").status_code == 302
    page = other_device.get(link)
    done = other_device.post(link, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 200 and "Go to the forum" in done.get_data(as_text=True)
    settings = other_device.get("/account/settings")
    assert settings.status_code == 200 and "ann@example.com (confirmed)" in settings.get_data(as_text=True)
    third = app.test_client()  # an already confirmed link signs nobody in
    third.get(link)
    assert third.get("/account/settings").status_code == 302


@pytest.mark.sqlite_only
def test_tampered_verify_link_is_refused(client, query, register, outbox):
    register()
    link = outbox.link(outbox.messages()[0], "/account/verify/")
    bad = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    assert client.get(bad).status_code == 400
    assert client.post(bad, data={"csrf_token": csrf_from(client.get("/account/login").get_data(as_text=True))}).status_code == 400
    assert users(query)[0].verified_at is None


def test_verify_link_expires_after_48_hours(client, app, query, register, monkeypatch):
    register()
    user = users(query)[0]
    issued = int(time.time()) - 48 * 3600 - 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: issued)
    from ldnsite.accounts import tokens

    with app.test_request_context():
        old = tokens.make_verify_token(user)
    monkeypatch.undo()
    response = client.get(f"/account/verify/{old}")
    assert response.status_code == 400
    assert "expired or is not valid" in response.get_data(as_text=True)


def test_unverified_member_can_sign_in_sees_a_notice_and_can_get_a_new_link(client, query, register, outbox, auth):
    register(email="slow@example.com", display_name="Slow Reader")
    response = auth.login("slow@example.com", STRONG_PASSWORD)
    assert response.status_code == 302
    with client.session_transaction() as s:
        flashed = [message for _category, message in s.get("_flashes", [])]
    assert any("Confirm your email address" in m for m in flashed)
    settings = client.get("/account/settings").get_data(as_text=True)
    assert "Confirm your email address" in settings
    assert "(not confirmed yet)" in settings
    resend = post_form(client, "/account/verify/resend", {}, form_page="/account/settings")
    assert resend.status_code == 302
    sent = outbox.messages(to="slow@example.com")
    assert len(sent) == 2
    second = outbox.link(sent[1], "/account/verify/")
    confirm = client.get(second)
    client.post(second, data={"csrf_token": csrf_from(confirm.get_data(as_text=True))})
    assert users(query)[0].verified_at is not None
    assert "Confirm your email address" not in client.get("/account/settings").get_data(as_text=True)
