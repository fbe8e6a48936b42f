"""A moderator works the queue in real headless Chromium with the keyboard alone:
signs in, approves a held post, tries to remove a reported post without a reason,
fixes the error, removes it, and reads the log. Every page and the error state are axe-clean."""

from __future__ import annotations

import pytest

from tests.conftest import assert_axe_clean, press_enter_and_wait, tab_to

pytestmark = pytest.mark.browser


def focused_text(page) -> str:
    return page.evaluate("() => document.activeElement.textContent.replace(/\\s+/g, ' ').trim()")


def skip_to_main(page) -> None:
    page.keyboard.press("Tab")
    assert focused_text(page) == "Skip to main content"
    page.keyboard.press("Enter")


def sign_in_by_keyboard(page, live_server: str) -> None:
    """Sign in as the moderator on the sign-in form, which brings them to the queue."""
    page.goto(live_server + "/account/login?next=/moderation/")
    skip_to_main(page)
    tab_to(page, "#email")
    page.keyboard.type("mod@example.com")
    tab_to(page, "#password")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server + "/moderation/")


def test_moderator_approves_and_removes_from_the_queue_by_keyboard(page, live_server, board, member, moderator, make_user):
    reporter = make_user("reporter@example.com", "Riley Reporter")
    topic_id, _ = board.topic(member, title="Starting LDN at 1.5 mg")
    held = board.reply(topic_id, member, body="Held: has anyone tried 4.5 mg?", status="pending")
    reported = board.reply(topic_id, member, body="Buy cheap LDN at my shop!")
    board.report(reported, reporter, reason="Advertising a shop")

    sign_in_by_keyboard(page, live_server)
    assert page.locator("h1").inner_text() == "Moderation queue"
    assert page.locator(".moderation-item").count() == 2
    assert_axe_clean(page)

    # Approve the held post.
    skip_to_main(page)
    tab_to(page, f"form[action='/moderation/p/{held}/approve'] button")
    assert focused_text(page) == "Approve post by Sam Member"
    press_enter_and_wait(page)
    assert "Post approved and published." in page.locator(".notice").inner_text()
    assert board.post(held).status == "published"
    assert page.locator(".moderation-item").count() == 1
    assert_axe_clean(page)

    # Try to remove the reported post without choosing a reason.
    skip_to_main(page)
    tab_to(page, f"form[action='/moderation/p/{reported}/remove'] button")
    assert focused_text(page) == "Remove post by Sam Member"
    press_enter_and_wait(page)
    assert page.title().startswith("Error: Remove a post")
    summary = page.locator(".error-summary")
    assert summary.locator("a").all_inner_texts() == ["Choose a reason for removing this post"]
    assert board.post(reported).status == "published"
    assert_axe_clean(page)

    # Follow the error summary's link to the field, choose a reason and explain it.
    skip_to_main(page)
    tab_to(page, ".error-summary a")
    page.keyboard.press("Enter")
    # The link moves the focus starting point to the field; without script, the next Tab
    # lands on the field after it, so one Shift+Tab comes back to the select.
    page.keyboard.press("Tab")
    if page.evaluate("() => document.activeElement.id") == "detail":
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.id") == "reason"
    page.keyboard.type("Spam")  # type-ahead selects "Spam or advertising"
    assert page.evaluate("() => document.activeElement.value") == "Spam or advertising"
    tab_to(page, "#detail")
    page.keyboard.type("Selling medicine online is not allowed.")
    tab_to(page, "main button[type=submit]")
    assert focused_text(page) == "Remove post"
    press_enter_and_wait(page)
    assert "Post removed." in page.locator(".notice").inner_text()
    post = board.post(reported)
    assert post.status == "removed" and post.removal_reason == "Spam or advertising: Selling medicine online is not allowed."
    assert "Nothing to review" in page.locator("main").inner_text()
    assert_axe_clean(page)

    # The log shows both actions; reach it from the moderation navigation.
    skip_to_main(page)
    tab_to(page, "nav.moderation-nav a[href='/moderation/log']")
    press_enter_and_wait(page)
    rows = page.locator("table.moderation-log tbody tr")
    assert rows.count() == 2
    assert "Removed post" in rows.nth(0).inner_text() and "Approved post" in rows.nth(1).inner_text()
    assert_axe_clean(page)

    # Filter the log by action with the keyboard.
    skip_to_main(page)
    tab_to(page, "#action")
    page.keyboard.type("Appr")
    tab_to(page, "form.moderation-filter button")
    press_enter_and_wait(page)
    assert page.locator("table.moderation-log tbody tr").count() == 1
    assert_axe_clean(page)


def test_member_pages_and_topic_controls_are_axe_clean(page, live_server, board, member, moderator, make_user):
    topic_id, _ = board.topic(member)
    removed = board.reply(topic_id, member)
    sign_in_by_keyboard(page, live_server)

    page.goto(live_server + f"/moderation/p/{removed}/remove")
    assert_axe_clean(page)
    skip_to_main(page)
    tab_to(page, "#reason")
    page.keyboard.type("Off")
    tab_to(page, "main button[type=submit]")
    press_enter_and_wait(page)

    for url in (f"/forum/t/{topic_id}", f"/moderation/u/{member.id}", "/moderation/users"):
        page.goto(live_server + url)
        assert page.locator("h1").count() == 1
        assert_axe_clean(page)

    # Suspension form in its error state.
    page.goto(live_server + f"/moderation/u/{member.id}")
    skip_to_main(page)
    tab_to(page, f"form[action='/moderation/u/{member.id}/suspend'] button")
    press_enter_and_wait(page)
    assert page.locator(".error-summary a").all_inner_texts() == ["Give a reason for the suspension"]
    assert_axe_clean(page)


def test_moderation_pages_in_dark_mode_and_at_320_px(page, live_server, board, member, moderator, make_user):
    """Dark mode keeps AA contrast, and at 320 px nothing scrolls sideways (tables scroll in their own region)."""
    topic_id, _ = board.topic(member, title="A long title about low-dose naltrexone and sleep " * 2)
    board.reply(topic_id, member, body="A held reply with a very long word " + "x" * 120, status="pending")
    reported = board.reply(topic_id, member)
    board.report(reported, make_user("reporter@example.com", "Riley Reporter"))
    sign_in_by_keyboard(page, live_server)
    page.goto(live_server + f"/moderation/t/{topic_id}/lock")  # GET is not allowed: an action is a POST
    assert page.locator("h1").inner_text() == "That action is not allowed here"
    urls = [
        "/moderation/",
        f"/moderation/p/{reported}/remove",
        "/moderation/log",
        f"/moderation/u/{member.id}",
        "/moderation/users",
        f"/forum/t/{topic_id}",
    ]
    page.emulate_media(color_scheme="dark")
    for url in urls:
        page.goto(live_server + url)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert sum(int(x) for x in background[background.index("(") + 1 : -1].split(",")[:3]) < 3 * 128
        assert_axe_clean(page)
    page.set_viewport_size({"width": 320, "height": 640})
    for url in urls:
        page.goto(live_server + url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{url} scrolls sideways: {width}px wide"


def test_an_urgent_post_comes_first_and_is_dealt_with_by_keyboard(page, live_server, board, member, moderator, make_user, app):
    from ldnsite.db import get_session, utcnow
    from ldnsite.forum.models import Post

    topic_id, _ = board.topic(member, title="Starting LDN at 1.5 mg")
    older = board.reply(topic_id, member, body="Held: has anyone tried 4.5 mg?", status="pending")
    urgent = board.reply(topic_id, member, body="I can't go on like this.")
    with app.app_context():
        session = get_session()
        session.get(Post, urgent).urgent_at = utcnow()
        session.commit()
    sign_in_by_keyboard(page, live_server)
    items = page.locator(".moderation-item")
    assert items.first.get_attribute("id") == f"item-{urgent}"
    assert "Urgent" in items.first.locator("h2").inner_text()
    assert page.locator(f"#item-{older}").is_visible()
    assert_axe_clean(page)
    page.emulate_media(color_scheme="dark")
    assert_axe_clean(page)
    skip_to_main(page)
    tab_to(page, f"form[action='/moderation/p/{urgent}/dismiss'] button")
    assert focused_text(page) == "Mark as dealt with: post by Sam Member and keep the post"
    press_enter_and_wait(page)
    assert "Urgent mark cleared" in page.locator(".notice").inner_text()
    assert page.locator(f"#item-{urgent}").count() == 0


def test_watched_words_page_by_keyboard_error_then_add_then_remove(page, live_server, board, member, moderator):
    sign_in_by_keyboard(page, live_server)
    skip_to_main(page)
    tab_to(page, "nav.moderation-nav a[href='/moderation/words']")
    press_enter_and_wait(page)
    assert page.locator("h1").inner_text() == "Watched words"
    assert_axe_clean(page)
    tab_to(page, "#phrase")
    page.keyboard.type("buy now")
    tab_to(page, "#action")
    page.keyboard.press("ArrowDown")  # to "Refuse"
    assert page.evaluate("document.activeElement.value") == "refuse"
    tab_to(page, "main form button[type=submit]")
    press_enter_and_wait(page)
    assert "because you chose Refuse" in page.locator(".error-summary").inner_text()
    assert_axe_clean(page)
    tab_to(page, "#message")
    page.keyboard.type("Please do not advertise in the forum.")
    tab_to(page, "main form.moderation-words-form button[type=submit]")
    press_enter_and_wait(page)
    assert "“buy now” is now watched" in page.locator(".notice").inner_text()
    assert_axe_clean(page)
    page.emulate_media(color_scheme="dark")
    assert_axe_clean(page)
    skip_to_main(page)
    tab_to(page, "main table button[type=submit]")
    press_enter_and_wait(page)
    assert "“buy now” is no longer watched." in page.locator(".notice").inner_text()
