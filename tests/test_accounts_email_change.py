"""Changing the email address: asked for with the password, confirmed from the new mailbox, told to the old one."""

from __future__ import annotations

import pytest

from ldnsite.accounts.models import User
from tests.conftest import csrf_from, post_form

pytestmark = pytest.mark.both_databases

PASSWORD = "correct horse battery"
NEW_ADDRESS = "new.address@example.com"


@pytest.fixture
def member(make_user, auth):
    user = make_user()
    assert auth.login().status_code == 302
    return user


def ask(client, email: str = NEW_ADDRESS, password: str = PASSWORD):
    return post_form(client, "/account/settings/email", {"email": email, "current_password": password})


def confirm(client, link: str):
    page = client.get(link)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(link, data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def email_of(query, user_id: int) -> str | None:
    with query() as db:
        return db.get(User, user_id).email


def test_the_address_changes_only_when_the_link_from_the_new_mailbox_is_used(client, query, member, outbox, auth):
    html = client.get("/account/settings").get_data(as_text=True)
    assert 'href="/account/settings/email"' in html

    response = ask(client, email="  New.Address@EXAMPLE.com ")
    assert response.status_code == 302
    assert NEW_ADDRESS in client.get("/account/settings").get_data(as_text=True)  # the flash message
    assert email_of(query, member.id) == "member@example.com"  # nothing changes yet
    [mail] = outbox.messages(to=NEW_ADDRESS)
    assert mail["Subject"] == "Confirm your new email address"
    link = outbox.link(mail, "/account/email/confirm/")

    page = client.get(link)
    assert "Use this email address" in page.get_data(as_text=True)
    assert email_of(query, member.id) == "member@example.com"  # a GET (a mail scanner) changes nothing

    done = confirm(client, link)
    assert done.status_code == 200
    assert "Your email address has been changed" in done.get_data(as_text=True)
    assert email_of(query, member.id) == NEW_ADDRESS
    [notice] = outbox.messages(to="member@example.com")
    assert notice["Subject"] == "Your email address was changed"
    assert NEW_ADDRESS in outbox.text(notice) and "/account/reset" in outbox.text(notice)

    auth.logout()
    assert auth.login("member@example.com", PASSWORD).status_code == 422
    assert auth.login(NEW_ADDRESS, PASSWORD).status_code == 302
    assert client.get(link).status_code == 400  # used once, it stops working


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        (NEW_ADDRESS, "wrong password", "Your current password is not correct"),
        ("member@example.com", PASSWORD, "That is already your email address"),
        ("other@example.com", PASSWORD, "Another account uses that email address"),
        ("not an address", PASSWORD, "Enter an email address in the correct format"),
        ("", PASSWORD, "Enter your new email address"),
    ],
)
def test_refusals_say_why_and_send_nothing(client, query, member, make_user, outbox, email, password, message):
    make_user(email="other@example.com", name="Other")
    response = ask(client, email=email, password=password)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert outbox.messages() == []
    assert email_of(query, member.id) == "member@example.com"


def test_an_opted_out_address_is_refused_with_a_way_forward(app, client, query, member, outbox):
    from ldnsite.db import get_session
    from ldnsite.mail import suppression

    with app.app_context():
        suppression.suppress(get_session(), NEW_ADDRESS)
        get_session().commit()
    response = ask(client)
    assert response.status_code == 422
    assert "opt-out list" in response.get_data(as_text=True)
    assert outbox.messages() == []


def test_the_link_stops_working_when_the_password_changes(client, query, member, outbox):
    ask(client)
    link = outbox.link(outbox.messages(to=NEW_ADDRESS)[0], "/account/email/confirm/")
    changed = post_form(client, "/account/settings/password", {"current_password": PASSWORD, "new_password": "violet canyon sparrow"})
    assert changed.status_code == 302
    response = client.get(link)
    assert response.status_code == 400
    assert "expired or is not valid" in response.get_data(as_text=True)
    assert email_of(query, member.id) == "member@example.com"


def test_an_address_taken_after_the_link_was_sent_is_not_used(client, query, member, make_user, outbox):
    ask(client)
    link = outbox.link(outbox.messages(to=NEW_ADDRESS)[0], "/account/email/confirm/")
    make_user(email=NEW_ADDRESS, name="Quicker")
    response = confirm(client, link)
    assert response.status_code == 409
    assert "Another account uses this email address" in response.get_data(as_text=True)
    assert email_of(query, member.id) == "member@example.com"


def test_tampered_links_and_signed_out_requests(client, member, outbox):
    ask(client)
    link = outbox.link(outbox.messages(to=NEW_ADDRESS)[0], "/account/email/confirm/")
    assert client.get(link[:-3] + "abc").status_code == 400
    assert client.get("/account/email/confirm/").status_code == 404
    page = client.get(link)
    assert client.post(link, data={"csrf_token": "forged"}).status_code == 400
    assert page.status_code == 200
    signed_out = type(client)(client.application)
    assert signed_out.get("/account/settings/email").status_code == 302  # asking needs a sign-in
