"""The forum in a real browser, with the keyboard alone: new topic (error, preview, post) and reply; axe clean throughout."""

from __future__ import annotations

import pytest

from tests.conftest import assert_axe_clean, press_enter_and_wait, tab_to
from tests.fixtures_forum import sign_in

pytestmark = pytest.mark.browser


def browser_sign_in(app, page, live_server, user) -> None:
    """Put a signed-in session cookie into the browser, as the sign-in page would."""
    client = app.test_client()
    sign_in(client, user)
    cookie = client.get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])


def test_new_topic_with_the_keyboard_error_then_preview_then_post(app, page, live_server, make_member):
    browser_sign_in(app, page, live_server, make_member())
    page.goto(live_server + "/forum/")
    assert_axe_clean(page)
    tab_to(page, "a[href='/forum/new']")
    press_enter_and_wait(page)
    assert page.locator("h1").inner_text() == "Start a new topic"
    assert_axe_clean(page)

    tab_to(page, "#title")
    page.keyboard.type("Hi")  # too short
    tab_to(page, "button[name=submit]")
    press_enter_and_wait(page)
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert "The title must be between 5 and 150 characters" in summary.inner_text()
    assert "Enter your message" in summary.inner_text()
    assert page.title().startswith("Error:")
    assert_axe_clean(page)

    tab_to(page, "#title")
    page.keyboard.press("Control+A")
    page.keyboard.type("Low-dose naltrexone and sleep")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "body"
    page.keyboard.type("Did anyone get **vivid dreams** in week one?")
    tab_to(page, "button[name=preview]")
    press_enter_and_wait(page)
    preview = page.locator(".forum-preview")
    assert preview.is_visible()
    assert preview.locator("strong").inner_text() == "vivid dreams"
    assert page.locator("#body").input_value() == "Did anyone get **vivid dreams** in week one?"
    assert_axe_clean(page)

    tab_to(page, "button[name=submit]")
    press_enter_and_wait(page)
    assert page.locator("h1").inner_text().startswith("Low-dose naltrexone and sleep")
    assert page.locator(".forum-post-body strong").inner_text() == "vivid dreams"
    assert "Your topic has been posted." in page.locator("main").inner_text()
    assert_axe_clean(page)


def test_reply_with_the_keyboard(app, page, live_server, make_member, make_user, make_topic):
    author = make_user("author@example.com", "Author")
    topic_id, _ = make_topic(author, title="Starting dose questions", body="What did you start on?")
    browser_sign_in(app, page, live_server, make_member("replier@example.com", "Replier"))
    page.goto(f"{live_server}/forum/t/{topic_id}")
    assert_axe_clean(page)

    tab_to(page, "#body")
    page.keyboard.type("I started on 0.5 mg and went up slowly.")
    tab_to(page, "button[name=submit]")
    press_enter_and_wait(page)
    assert "Your reply has been posted." in page.locator("main").inner_text()
    assert page.locator(".forum-post-body", has_text="I started on 0.5 mg").is_visible()
    assert_axe_clean(page)


def test_reply_page_error_state_with_the_keyboard(app, page, live_server, make_member, make_topic):
    member = make_member()
    topic_id, _ = make_topic(member)
    browser_sign_in(app, page, live_server, member)
    page.goto(f"{live_server}/forum/t/{topic_id}/reply")
    assert_axe_clean(page)
    tab_to(page, "button[name=submit]")
    press_enter_and_wait(page)
    assert "Enter your message" in page.locator(".error-summary").inner_text()
    assert_axe_clean(page)


def test_edit_and_report_pages_with_the_keyboard_are_axe_clean(app, page, live_server, make_member, make_user, make_topic, make_post):
    author = make_user("author@example.com", "Author")
    member = make_member()
    topic_id, others_post = make_topic(author, body="Try **this** instead of your medicine.")
    own_post = make_post(topic_id, member, "My own reply.")
    browser_sign_in(app, page, live_server, member)

    page.goto(f"{live_server}/forum/p/{own_post}/edit")
    assert_axe_clean(page)
    page.goto(f"{live_server}/forum/t/{topic_id}")
    tab_to(page, f"a[href='/forum/p/{others_post}/report']")
    press_enter_and_wait(page)
    tab_to(page, "main form button[type=submit]")
    press_enter_and_wait(page)
    assert "Choose why you are reporting this post" in page.locator(".error-summary").inner_text()
    assert_axe_clean(page)
    tab_to(page, "#reason")
    page.keyboard.press("Space")
    tab_to(page, "#details")
    page.keyboard.type("Advises stopping prescribed medicine.")
    tab_to(page, "main form button[type=submit]")
    press_enter_and_wait(page)
    assert "Thank you for your report" in page.locator("main").inner_text()


def test_forum_rules_reached_with_the_keyboard_and_axe_clean(page, live_server):
    page.goto(live_server + "/forum/")
    tab_to(page, "a[href='/forum/rules']")
    press_enter_and_wait(page)
    assert page.locator("h1").inner_text() == "Forum rules"
    assert "116 123" in page.locator("main").inner_text()
    assert_axe_clean(page)


def test_report_with_the_keyboard_shows_the_confirmation_at_the_post(app, page, live_server, make_member, make_user, make_topic, make_post):
    author = make_user("author@example.com", "Author")
    topic_id, _ = make_topic(author)
    for n in range(12):
        make_post(topic_id, author, f"Reply number {n}, long enough to take some room on the page.")
    target = make_post(topic_id, author, "Take 50 mg of naltrexone, it is the same thing.")
    browser_sign_in(app, page, live_server, make_member("reporter@example.com", "Reporter"))
    page.goto(f"{live_server}/forum/t/{topic_id}")
    tab_to(page, f"a[href='/forum/p/{target}/report']")
    press_enter_and_wait(page)
    assert page.locator("h1").inner_text() == "Report a post"
    assert_axe_clean(page)
    tab_to(page, "#reason")
    page.keyboard.press("ArrowDown")  # from the first reason to the second
    assert page.evaluate("document.activeElement.value") == "medical"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "details"
    page.keyboard.type("Suggests a full dose instead of a low dose.")
    tab_to(page, "button[type=submit]")
    press_enter_and_wait(page)
    notice = page.locator(f"#post-{target} .forum-landing")
    assert notice.is_visible() and "Thank you for your report" in notice.inner_text()
    # Chromium scrolls to the anchor just after the load event: wait for it (it fails if it never comes).
    page.wait_for_function(
        "id => { const r = document.getElementById(id).getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; }",
        arg=f"post-{target}",
        timeout=5000,
    )
    box = notice.bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"]  # on screen where the page jumped to
    assert_axe_clean(page)


def test_suspension_notice_is_axe_clean_and_its_appeal_link_reachable(app, page, live_server, make_member, moderator):
    from datetime import timedelta

    from ldnsite.accounts.models import Suspension
    from ldnsite.db import get_session, utcnow

    member = make_member()
    with app.app_context():
        session = get_session()
        session.add(
            Suspension(user_id=member.id, moderator_id=moderator.id, reason="Selling medicines.", ends_at=utcnow() + timedelta(days=7))
        )
        session.commit()
    browser_sign_in(app, page, live_server, member)
    page.goto(live_server + "/forum/")
    assert page.locator(".forum-suspended").is_visible()
    assert_axe_clean(page)
    tab_to(page, ".forum-suspended a[href='/forum/rules#appeal']")
    press_enter_and_wait(page)
    assert page.locator("h1").inner_text() == "Forum rules"


def test_crisis_support_is_shown_to_the_writer_at_once_and_is_axe_clean(app, page, live_server, make_member, make_topic):
    member = make_member()
    topic_id, _ = make_topic(member, title="A hard week")
    browser_sign_in(app, page, live_server, member)
    page.goto(f"{live_server}/forum/t/{topic_id}")
    tab_to(page, "#body")
    page.keyboard.type("Some nights I want to end my life.")
    tab_to(page, "button[name=submit]")
    press_enter_and_wait(page)
    panel = page.locator(".forum-crisis")
    assert panel.is_visible()
    for number in ("116 123", "999", "NHS 111", "local emergency number"):
        assert number in panel.inner_text()
    assert_axe_clean(page)
    page.emulate_media(color_scheme="dark")
    assert_axe_clean(page)


def test_follow_and_unfollow_a_topic_with_the_keyboard(app, page, live_server, make_member, make_user, make_topic):
    from ldnsite.forum.follows import unfollow_token

    author = make_user("author@example.com", "Author")
    member = make_member()
    topic_id, _ = make_topic(author, title="Morning stiffness")
    browser_sign_in(app, page, live_server, member)
    page.goto(f"{live_server}/forum/t/{topic_id}")
    tab_to(page, "form.forum-follow button")
    assert page.evaluate("document.activeElement.textContent") == "Follow this topic"
    press_enter_and_wait(page)
    assert "You are following this topic" in page.locator("main").inner_text()
    assert_axe_clean(page)
    tab_to(page, "form.forum-follow button")
    assert page.evaluate("document.activeElement.textContent") == "Stop following"
    press_enter_and_wait(page)
    assert "You no longer follow this topic" in page.locator("main").inner_text()
    page.goto(f"{live_server}/forum/unfollow/{unfollow_token(author.id, topic_id, app.config)}")
    assert_axe_clean(page)
    tab_to(page, "main form button")
    press_enter_and_wait(page)
    assert page.locator("h1").inner_text() == "You will not get emails about this topic"
    assert_axe_clean(page)


def test_withdraw_a_post_with_the_keyboard(app, page, live_server, make_member, make_user, make_topic, make_post):
    other = make_user("other@example.com", "Other")
    member = make_member()
    topic_id, _ = make_topic(other, title="Diagnosis stories")
    post_id = make_post(topic_id, member, "Something I no longer want to share.")
    browser_sign_in(app, page, live_server, member)
    page.goto(f"{live_server}/forum/t/{topic_id}")
    tab_to(page, f"a[href='/forum/p/{post_id}/withdraw']")
    press_enter_and_wait(page)
    assert page.locator("h1").inner_text() == "Withdraw your post"
    assert_axe_clean(page)
    tab_to(page, "main form button[type=submit]")
    press_enter_and_wait(page)
    assert page.locator(f"#post-{post_id} .forum-landing").is_visible()
    assert "withdrawn by its author" in page.locator(f"#post-{post_id}").inner_text()
    assert_axe_clean(page)
