"""Search with the keyboard alone in a real Chromium, and axe on every search page state."""

from __future__ import annotations

import re

import pytest

from tests.conftest import assert_axe_clean, tab_to

pytestmark = pytest.mark.browser


def test_search_with_the_keyboard_from_the_header(page, live_server, forum_post):
    forum_post("Lyrica made me drowsy for a week.", title="Lyrica drowsiness")
    page.goto(live_server + "/")
    tab_to(page, "#header-search-q")
    page.keyboard.type("lyrica")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=lyrica"))
    assert "results for" in page.inner_text("h1") and "lyrica" in page.inner_text("h1")
    assert page.locator('input[type="search"]').count() == 1  # one search box on the results page
    assert page.input_value("#search-q") == "lyrica"
    assert_axe_clean(page)

    # The options are folded away: open them from the keyboard, then the radios with the arrow keys.
    assert not page.is_visible("#search-kind-all")
    tab_to(page, ".search-details summary")
    page.keyboard.press("Enter")
    tab_to(page, "#search-kind-all")
    page.keyboard.press("ArrowRight")
    assert page.is_checked("#search-kind-pages")
    tab_to(page, ".search-form button[type=submit]", back=True)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"kind=pages"))
    assert page.locator(".search-kind").first.inner_text() == "Treatment"

    tab_to(page, ".search-result-heading a")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/treatments/pregabalin$"))


def test_search_page_states_are_accessible(page, live_server):
    page.goto(live_server + "/search")
    assert page.inner_text("h1") == "Search"
    assert_axe_clean(page)

    page.goto(live_server + "/search?q=qqqzzzxxv")
    assert "0 results" in page.inner_text("h1")
    assert_axe_clean(page)

    page.goto(live_server + "/search?q=naltrexon")
    tab_to(page, ".did-you-mean a")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=naltrexone"))
    assert_axe_clean(page)

    response = page.goto(live_server + "/search?q=ldn&kind=bogus")
    assert response.status == 400
    assert "Choose where to search" in page.inner_text(".error-summary")
    assert_axe_clean(page)


def test_results_reflow_on_a_narrow_screen(page, live_server):
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto(live_server + "/search?q=" + "fibromyalgia%20" * 12)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert_axe_clean(page)


def test_on_a_phone_the_first_result_is_on_the_first_screen(page, live_server, forum_post):
    forum_post("LDN helped my sleep after a month.", title="LDN and sleep")
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(live_server + "/search?q=ldn+sleep")
    assert page.locator('input[type="search"]').count() == 1
    assert not page.is_visible(".search-options")  # hints and filters folded into <details>
    top = page.evaluate("document.querySelector('.search-result').getBoundingClientRect().top + window.scrollY")
    assert top < 640, top
    assert_axe_clean(page)
