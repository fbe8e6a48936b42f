"""The opt-out form, the unsubscribe page and opting back in, driven with the keyboard alone in Chromium."""

from __future__ import annotations

import pytest

from ldnsite.db import get_session
from ldnsite.mail.suppression import is_suppressed
from ldnsite.mail.tokens import unsubscribe_url
from tests.conftest import assert_axe_clean, tab_to

pytestmark = pytest.mark.browser


def suppressed(app, address: str) -> bool:
    with app.app_context():
        return is_suppressed(get_session(), address)


def test_opt_out_form_with_keyboard_error_then_success(app, page, live_server):
    page.goto(live_server + "/opt-out")
    assert_axe_clean(page)
    tab_to(page, "input#email")
    page.keyboard.type("not-an-address")
    page.keyboard.press("Enter")
    page.wait_for_selector(".error-summary")
    assert page.title().startswith("Error:")
    assert page.locator("#email-error").inner_text().endswith("like name@example.com")
    assert page.get_attribute("#email", "aria-invalid") == "true"
    assert_axe_clean(page)
    page.emulate_media(color_scheme="dark")
    assert_axe_clean(page)  # the error colours keep their contrast in dark mode too
    page.emulate_media(color_scheme="light")

    tab_to(page, ".error-summary a[href='#email']")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.press("Control+A")
    page.keyboard.type("Keyboard.User@Example.com")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Emails stopped')")
    assert_axe_clean(page)
    assert suppressed(app, "keyboard.user@example.com")


def test_unsubscribe_confirm_page_with_keyboard(app, page, live_server):
    with app.app_context():
        url = unsubscribe_url("reader@example.com", app.config).replace(app.config["SITE_URL"], live_server)
    page.goto(url)
    assert page.locator("h1").inner_text() == "Unsubscribe from all emails"
    assert_axe_clean(page)
    assert not suppressed(app, "reader@example.com")
    tab_to(page, "main button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('You are unsubscribed')")
    assert_axe_clean(page)
    assert suppressed(app, "reader@example.com")


def test_opt_in_form_and_bad_link_pages_are_accessible(page, live_server):
    page.goto(live_server + "/opt-in")
    assert_axe_clean(page)
    tab_to(page, "input#email")
    page.keyboard.press("Enter")
    page.wait_for_selector(".error-summary")
    assert_axe_clean(page)
    tab_to(page, "input#email")
    page.keyboard.type("someone@example.com")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Check your email')")
    assert_axe_clean(page)
    response = page.goto(live_server + "/unsubscribe/tampered")
    assert response.status == 400
    assert_axe_clean(page)
