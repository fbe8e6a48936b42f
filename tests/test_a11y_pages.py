"""Accessibility of every reader-facing page type in real headless Chromium: axe-core in light and
dark mode, keyboard-only navigation, visible focus, 320 px reflow, reduced motion and print.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ldnsite.content.store import ContentStore
from tests.conftest import assert_axe_clean

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("CONTENT_DIR_UNDER_TEST", ROOT / "site"))
_PAGES = ContentStore(SITE).all()


def _first_url(kind: str, prefer: str | None = None) -> str:
    urls = [p.url for p in _PAGES if p.kind == kind]
    if prefer and any(u.endswith("/" + prefer) for u in urls):
        return next(u for u in urls if u.endswith("/" + prefer))
    return urls[0] if urls else f"/missing-{kind}-page"


ARTICLE = "/treatments/low-dose-naltrexone"
PAGE_TYPES = {
    "home": "/",
    "treatments-list": "/treatments/",
    "conditions-list": "/conditions/",
    "article": ARTICLE,
    "treatment": _first_url("treatment", prefer="pregabalin"),
    "condition": _first_url("condition", prefer="fibromyalgia"),
    "privacy": "/privacy",
    "accessibility": "/accessibility",
    "about": "/about",
    "not-found": "/treatments/no-such-page",
}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CONTENT_DIR": str(SITE)}


def goto(page, live_server: str, url: str, status: int = 200):
    response = page.goto(live_server + url)
    assert response.status == status, f"{url} answered {response.status}"
    return response


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", PAGE_TYPES)
def test_page_type_has_no_axe_violations(page, live_server, name, scheme):
    page.emulate_media(color_scheme=scheme)
    goto(page, live_server, PAGE_TYPES[name], 404 if name == "not-found" else 200)
    # Prove the scheme took effect, so a dark-mode pass is a real dark-mode pass.
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(x) for x in background[background.index("(") + 1:-1].split(",")[:3])
    assert (red + green + blue < 3 * 128) == (scheme == "dark"), f"{scheme} mode has background {background}"
    assert_axe_clean(page)


@pytest.mark.parametrize("name", PAGE_TYPES)
def test_page_type_reflows_at_320_px(page, live_server, name):
    page.set_viewport_size({"width": 320, "height": 640})
    goto(page, live_server, PAGE_TYPES[name], 404 if name == "not-found" else 200)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{PAGE_TYPES[name]} scrolls sideways: {width}px wide"


def test_every_page_in_site_is_axe_clean_and_reflows(page, live_server):
    """Beyond one page of each type: a table, a long word or a link in one page's text must not slip through."""
    assert _PAGES, f"no pages in {SITE}"
    for content_page in _PAGES:
        page.set_viewport_size({"width": 1280, "height": 900})
        goto(page, live_server, content_page.url)
        assert_axe_clean(page)
        page.set_viewport_size({"width": 320, "height": 640})
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{content_page.url} scrolls sideways at 320px: {width}px wide"


def test_wide_evidence_table_scrolls_inside_a_focusable_region_at_320_px(page, live_server):
    page.set_viewport_size({"width": 320, "height": 640})
    goto(page, live_server, ARTICLE)
    region = page.locator(".evidence .table-wrap")
    assert region.get_attribute("tabindex") == "0"
    assert region.get_attribute("role") == "region"
    assert region.evaluate("el => el.scrollWidth > el.clientWidth"), "the table should need its own scroll at 320px"
    region.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # Keyboard scrolling is animated, so wait for it rather than read it at once.
    page.wait_for_function("() => document.querySelector('.evidence .table-wrap').scrollLeft > 0", timeout=5000)


STYLE = "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.outlineStyle, s.outlineWidth, s.boxShadow]; }"


def _active(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            return {tag: el.tagName.toLowerCase(), id: el.id, text: (el.textContent || '').trim(),
                    cls: el.className || '', href: el.getAttribute('href') || '',
                    inContents: !!el.closest('nav.contents'), inReferences: !!el.closest('section.references')};
        }"""
    )


def test_keyboard_reaches_skip_link_main_contents_references_and_discuss(page, live_server):
    goto(page, live_server, ARTICLE)
    page.keyboard.press("Tab")
    first = _active(page)
    assert first["text"] == "Skip to main content" and first["href"] == "#maincontent"
    assert page.locator(".skip-link").is_visible(), "the skip link shows when focused"
    main_style = page.locator("#maincontent").evaluate(STYLE)
    page.keyboard.press("Enter")
    assert _active(page)["id"] == "maincontent"
    # The content is not painted over with the focus colour once focus lands on it.
    assert page.locator("#maincontent").evaluate(STYLE) == main_style

    reached = {"contents": False, "reference": False, "discuss": False}
    for _ in range(400):
        page.keyboard.press("Tab")
        el = _active(page)
        if el["tag"] == "body":
            break
        reached["contents"] |= el["inContents"]
        reached["reference"] |= el["inReferences"] and el["href"].startswith(("https://pubmed", "https://doi.org"))
        reached["discuss"] |= el["tag"] == "button" and el["text"] == "Discuss this article"
        if all(reached.values()):
            break
    assert all(reached.values()), f"not reached by Tab: {[k for k, v in reached.items() if not v]}"


def test_contents_link_moves_to_its_section(page, live_server):
    goto(page, live_server, ARTICLE)
    link = page.locator("nav.contents a").first
    target = link.get_attribute("href")
    link.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == target
    assert page.locator(target).is_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("selector", [".prose a", "nav.contents a", "section.references a", ".discuss button", ".site-nav a",
                                      "#header-search-q"])
def test_keyboard_focus_is_visible(page, live_server, scheme, selector):
    page.emulate_media(color_scheme=scheme)
    goto(page, live_server, ARTICLE)
    element = page.locator(selector).first
    before = element.evaluate(STYLE)
    # Reach the element by keyboard so :focus-visible applies as it would for a keyboard user.
    for _ in range(400):
        page.keyboard.press("Tab")
        if element.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail(f"{selector} is not reachable with Tab")
    after = element.evaluate(STYLE)
    assert after != before, f"focus on {selector} looks the same as no focus: {after}"
    background, outline_style, outline_width, shadow = after
    assert background != before[0] or (outline_style != "none" and outline_width != "0px") or shadow != before[3]


def test_reduced_motion_turns_smooth_scrolling_off(page, live_server):
    page.emulate_media(reduced_motion="no-preference")
    goto(page, live_server, ARTICLE)
    assert page.evaluate("getComputedStyle(document.documentElement).scrollBehavior") == "smooth"
    page.emulate_media(reduced_motion="reduce")
    assert page.evaluate("getComputedStyle(document.documentElement).scrollBehavior") == "auto"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_print_hides_navigation_and_prints_reference_urls(page, live_server, scheme):
    page.emulate_media(color_scheme=scheme)
    goto(page, live_server, ARTICLE)
    page.emulate_media(media="print")
    # Black on white on paper, even from a device in dark mode.
    for selector in ("body", ".lede", ".prose p", ".evidence td", ".review-dates"):
        colour = page.locator(selector).first.evaluate("el => getComputedStyle(el).color")
        assert colour == "rgb(0, 0, 0)" or colour == "rgb(51, 51, 51)", f"{selector} prints in {colour}"
    for selector in ("body", ".evidence table"):
        background = page.locator(selector).first.evaluate("el => getComputedStyle(el).backgroundColor")
        assert background in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), f"{selector} prints on {background}"
    for selector in (".site-header", ".site-nav", ".breadcrumb", ".site-footer", ".discuss", "nav.contents"):
        assert page.locator(selector).first.evaluate("el => getComputedStyle(el).display") == "none", selector
    for selector in ("h1", ".prose", "section.references", ".review-dates", ".disclaimer", ".evidence table"):
        assert page.locator(selector).first.is_visible(), selector
    link = page.locator("section.references a").first
    href = link.get_attribute("href")
    after = link.evaluate("el => getComputedStyle(el, '::after').content")
    assert href in after, f"reference URL not printed: {after!r}"
    page.emulate_media(media="screen")
    assert page.locator(".site-nav").evaluate("el => getComputedStyle(el).display") != "none"
    assert href not in link.evaluate("el => getComputedStyle(el, '::after').content")

