"""Registration and sign-in in real headless Chromium, with the keyboard alone, axe-clean in every state."""

from __future__ import annotations

import pytest

from tests.conftest import assert_axe_clean, tab_to
from tests.fixtures_accounts import STRONG_PASSWORD

pytestmark = pytest.mark.browser


def fill_by_keyboard(page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.press("Delete")
    if text:
        page.keyboard.type(text)


def submit_by_keyboard(page, button_text: str) -> None:
    tab_to(page, "main button[type=submit]")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == button_text
    with page.expect_navigation():
        page.keyboard.press("Enter")


def start(page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")  # into <main>, so the next Tab reaches the form


def test_register_with_the_keyboard_including_the_error_state(page, live_server, outbox):
    start(page, live_server + "/account/register")
    assert_axe_clean(page)

    fill_by_keyboard(page, "#email", "not-an-email")
    fill_by_keyboard(page, "#display_name", "A")
    fill_by_keyboard(page, "#password", "password123")
    submit_by_keyboard(page, "Create account")
    assert page.title().startswith("Error: Create an account")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert summary.locator("a").all_inner_texts() == [
        "Enter an email address in the correct format, like name@example.com",
        "Your display name must be at least 2 characters long",
        "That password is too common and easy to guess. Choose a longer or less usual one, for example three random words",
    ]
    assert page.locator("#email").get_attribute("aria-invalid") == "true"
    assert "email-error" in page.locator("#email").get_attribute("aria-describedby")
    assert page.locator("#password").input_value() == ""  # the password is never sent back
    assert_axe_clean(page)

    # The summary's links are reachable by keyboard and lead to the fields.
    page.keyboard.press("Tab")  # skip link
    tab_to(page, ".error-summary a[href='#email']")
    page.keyboard.press("Enter")
    assert page.url.endswith("#email")

    fill_by_keyboard(page, "#email", "keyboard@example.com")
    fill_by_keyboard(page, "#display_name", "Keyboard User")
    fill_by_keyboard(page, "#password", STRONG_PASSWORD)
    submit_by_keyboard(page, "Create account")
    assert page.url.endswith("/account/register/check-email")
    assert page.locator("h1").inner_text() == "Check your email"
    assert_axe_clean(page)
    assert len(outbox.messages(to="keyboard@example.com")) == 1


def test_sign_in_with_the_keyboard_including_the_error_state(page, live_server, make_user):
    make_user(email="member@example.com", password="correct horse battery")
    start(page, live_server + "/account/login")
    assert_axe_clean(page)

    fill_by_keyboard(page, "#email", "member@example.com")
    fill_by_keyboard(page, "#password", "wrong password")
    submit_by_keyboard(page, "Sign in")
    assert page.title().startswith("Error: Sign in")
    assert page.locator(".error-summary a").all_inner_texts() == ["Enter a correct email address and password"]
    assert page.locator("#email").input_value() == "member@example.com"
    assert_axe_clean(page)

    fill_by_keyboard(page, "#password", "correct horse battery")
    submit_by_keyboard(page, "Sign in")
    assert "You are signed in." in page.locator("main").inner_text()

    # Sign out is a button in the navigation, reachable by keyboard.
    page.keyboard.press("Tab")
    tab_to(page, "nav button[type=submit]")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Sign out"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "You have signed out." in page.locator("main").inner_text()
    assert page.locator("nav a", has_text="Sign in").count() == 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_account_pages_are_axe_clean(page, live_server, make_user, scheme):
    make_user(email="member@example.com", password="correct horse battery", verified=False)
    page.emulate_media(color_scheme=scheme)
    start(page, live_server + "/account/login")
    fill_by_keyboard(page, "#email", "member@example.com")
    fill_by_keyboard(page, "#password", "correct horse battery")
    submit_by_keyboard(page, "Sign in")
    for path in (
        "/account/settings",
        "/account/settings/display-name",
        "/account/settings/password",
        "/account/settings/email",
        "/account/delete",
        "/account/reset",
        "/account/reset/sent",
        "/account/register/check-email",
        "/account/reset/not-a-token",
        "/account/email/confirm/not-a-token",
    ):
        response = page.goto(live_server + path)
        assert response.status in (200, 400), path
        assert page.locator("h1").count() == 1, path
        assert page.locator("nav.breadcrumb").count() == 1, path
        assert_axe_clean(page)
    page.goto(live_server + "/account/delete")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    fill_by_keyboard(page, "#password", "")
    submit_by_keyboard(page, "Delete my account")
    assert page.locator(".error-summary").is_visible()
    assert_axe_clean(page)


def test_account_pages_reflow_at_320_px(page, live_server, make_user):
    make_user(email="member@example.com", password="correct horse battery")
    page.set_viewport_size({"width": 320, "height": 640})
    start(page, live_server + "/account/login")
    fill_by_keyboard(page, "#email", "member@example.com")
    fill_by_keyboard(page, "#password", "correct horse battery")
    submit_by_keyboard(page, "Sign in")
    for path in ("/account/settings", "/account/settings/password", "/account/settings/email", "/account/delete"):
        page.goto(live_server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} scrolls sideways: {width}px wide"
    page.context.clear_cookies()
    for path in ("/account/register", "/account/login"):
        page.goto(live_server + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path


def test_emails_section_stop_and_start_again_with_the_keyboard(app, page, live_server, make_user):
    from tests.conftest import press_enter_and_wait, sign_in

    user = make_user("emails@example.com", "Email Person")
    client = app.test_client()
    sign_in(client, user)
    page.context.add_cookies([{"name": "session", "value": client.get_cookie("session").value, "url": live_server}])
    page.goto(live_server + "/account/settings")
    assert_axe_clean(page)
    tab_to(page, "form[action='/account/settings/email-opt-out'] button")
    press_enter_and_wait(page)
    assert "Off, because all emails are stopped" in page.locator("main").inner_text()
    assert_axe_clean(page)
    tab_to(page, "form[action='/account/settings/email-opt-in'] button")
    press_enter_and_wait(page)
    assert "Stop all emails" in page.locator("main").inner_text()
