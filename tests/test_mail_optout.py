"""Opt-out form, one-click unsubscribe and opting back in, over HTTP."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import String, Text, func, select

from ldnsite.db import Base, get_session
from ldnsite.mail.mailer import queue
from ldnsite.mail.models import Suppression
from ldnsite.mail.suppression import is_suppressed
from ldnsite.mail.tokens import unsubscribe_url
from tests.conftest import csrf_from, post_form
from tests.fixtures_mail import text_body

pytestmark = pytest.mark.both_databases

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def suppressed(app, address: str) -> bool:
    with app.app_context():
        return is_suppressed(get_session(), address)


def suppression_rows(app) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(Suppression))


def unsub_path(app, address: str) -> str:
    with app.app_context():
        return unsubscribe_url(address, app.config).removeprefix(app.config["SITE_URL"])


def test_opt_out_form_has_one_email_field_and_links_the_privacy_policy(client):
    html = client.get("/opt-out").get_data(as_text=True)
    inputs = re.findall(r"<input[^>]*>", html)
    fields = [i for i in inputs if 'type="hidden"' not in i and 'name="q"' not in i]
    assert len(fields) == 1
    assert 'name="email"' in fields[0] and 'autocomplete="email"' in fields[0] and 'id="email"' in fields[0]
    assert 'for="email"' in html
    assert 'href="/privacy"' in html


def test_opt_out_stops_mail_and_repeating_changes_nothing(app, client):
    first = post_form(client, "/opt-out", {"email": "Someone@Example.com"})
    assert first.status_code == 200
    assert "Emails stopped" in first.get_data(as_text=True)
    assert suppressed(app, "someone@example.com")
    again = post_form(client, "/opt-out", {"email": "  someone@EXAMPLE.com "})
    assert again.status_code == 200
    assert suppression_rows(app) == 1


def test_known_and_unknown_addresses_get_identical_answers(app, make_user):
    make_user(email="known@example.com")
    answers = []
    for address in ("known@example.com", "nobody-here@example.com"):
        client = app.test_client()
        answers.append(post_form(client, "/opt-out", {"email": address}))
    known, unknown = answers
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert sorted(k for k, _ in known.headers if k != "Date") == sorted(k for k, _ in unknown.headers if k != "Date")


def test_invalid_address_gets_422_with_error_summary_and_changes_nothing(app, client):
    response = post_form(client, "/opt-out", {"email": "not an address"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in html
    assert 'href="#email"' in html
    assert 'id="email-error"' in html
    assert "Enter an email address in the correct format" in html
    assert html.count("<h1") == 1
    empty = post_form(client, "/opt-out", {"email": ""})
    assert empty.status_code == 422 and "Enter your email address" in empty.get_data(as_text=True)
    assert suppression_rows(app) == 0


def test_opt_out_without_csrf_token_is_refused(app, client):
    response = client.post("/opt-out", data={"email": "someone@example.com"})
    assert response.status_code == 400
    assert suppression_rows(app) == 0


def test_the_address_is_never_stored_in_clear(app, client):
    address = "Private.Person@Example.org"
    post_form(client, "/opt-out", {"email": address})
    client.post(unsub_path(app, "other.person@example.org"), data=ONE_CLICK)
    assert suppression_rows(app) == 2
    needles = ("private.person", "example.org", "other.person")
    with app.app_context():
        session = get_session()
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, String | Text)]
            for row in session.execute(select(*cols)) if cols else ():
                for value in row:
                    assert not any(n in str(value).lower() for n in needles), f"{table.name} holds {value!r}"


def test_unsubscribe_link_from_an_email_works_with_one_click_post(app, db, outbox):
    queue(
        db,
        to="reader@example.com",
        subject="Reply",
        template="mail_opt_in",
        context={"confirm_url": "x"},
        category="notification",
        dedupe_key="reply:1:1",
    )
    db.commit()
    (msg,) = outbox.to("reader@example.com")
    url = msg["List-Unsubscribe"].strip("<>")
    assert url in text_body(msg)
    path = url.removeprefix(app.config["SITE_URL"])

    scanner = app.test_client()  # a link checker follows the link: nothing changes
    page = scanner.get(path)
    assert page.status_code == 200
    assert "Set-Cookie" not in page.headers
    assert "List-Unsubscribe" in page.get_data(as_text=True)
    assert not suppressed(app, "reader@example.com")

    provider = app.test_client()  # the mail provider: no cookies, no CSRF token
    response = provider.post(path, data=ONE_CLICK)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert suppressed(app, "reader@example.com")
    assert provider.post(path, data=ONE_CLICK).status_code == 200  # repeat: still fine
    assert suppression_rows(app) == 1


def test_one_click_post_accepts_multipart_bodies(app):
    path = unsub_path(app, "multi@example.com")
    response = app.test_client().post(path, data=ONE_CLICK, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert suppressed(app, "multi@example.com")


def test_one_click_post_without_the_body_changes_nothing(app):
    response = app.test_client().post(unsub_path(app, "someone@example.com"), data={})
    assert response.status_code == 400
    assert not suppressed(app, "someone@example.com")


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), lambda t: "x" + t, lambda t: "nonsense"])
def test_tampered_token_gets_400_and_changes_nothing(app, mangle):
    path = unsub_path(app, "someone@example.com")
    token = path.rsplit("/", 1)[1]
    bad = f"/unsubscribe/{mangle(token)}"
    client = app.test_client()
    page = client.get(bad)
    assert page.status_code == 400
    assert "This link does not work" in page.get_data(as_text=True)
    assert client.post(bad, data=ONE_CLICK).status_code == 400
    assert suppression_rows(app) == 0


def test_non_member_opts_back_in_only_by_confirming_from_the_mailbox(app, client, outbox):
    post_form(client, "/opt-out", {"email": "back@example.com"})
    sent = post_form(client, "/opt-in", {"email": "Back@Example.com"})
    assert sent.status_code == 200
    assert "Check your email" in sent.get_data(as_text=True)
    assert suppressed(app, "back@example.com")  # nothing changes before the link is used

    (msg,) = outbox.to("Back@example.com")
    link = re.search(r"(http://localhost/opt-in/\S+)", text_body(msg)).group(1)
    path = link.removeprefix("http://localhost")
    page = client.get(path)
    assert page.status_code == 200
    assert suppressed(app, "back@example.com")  # GET changes nothing
    done = client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 200
    assert "Emails started again" in done.get_data(as_text=True)
    assert not suppressed(app, "back@example.com")


def test_opt_in_for_an_address_that_never_opted_out_sends_nothing_and_says_the_same(app, outbox):
    a, b = app.test_client(), app.test_client()
    post_form(a, "/opt-out", {"email": "was-out@example.com"})
    out = post_form(a, "/opt-in", {"email": "was-out@example.com"})
    never = post_form(b, "/opt-in", {"email": "never-out@example.com"})
    assert out.get_data() == never.get_data()
    assert outbox.to("never-out@example.com") == []
    assert len(outbox.to("was-out@example.com")) == 1


def test_opt_in_invalid_address_and_bad_link(app, client):
    response = post_form(client, "/opt-in", {"email": "nope"})
    assert response.status_code == 422
    assert 'href="#email"' in response.get_data(as_text=True)
    assert client.get("/opt-in/not-a-token").status_code == 400
