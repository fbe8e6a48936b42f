"""Accessibility of every reader-facing page type in real headless Chromium: axe-core in light and
dark mode, keyboard-only navigation, visible focus, 320 px reflow, reduced motion and print.

The page-format parts (care cards, key facts, research page, printable summary, evidence cards)
are checked on the fixture pages in tests/data/content, so they are covered whatever the clinical
pages in site/ hold at the time.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ldnsite.content.store import ContentStore
from tests.conftest import assert_axe_clean

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("CONTENT_DIR_UNDER_TEST", ROOT / "site"))
_PAGES = ContentStore(SITE).all()
FIXTURES = ROOT / "tests" / "data" / "content"
FORMAT_PAGES = {
    "medicine-with-care-cards": "/treatments/testamol",
    "research": "/treatments/testamol/research",
    "summary": "/treatments/testamol/summary",
    "condition-summary": "/conditions/test-pain/summary",
    "condition": "/conditions/test-pain",
}


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
def fixture_pages() -> Path:
    """Ask for this in a test to serve the fixture pages instead of site/."""
    return FIXTURES


@pytest.fixture
def app_config(app_config, request):
    folder = FIXTURES if "fixture_pages" in request.fixturenames else SITE
    return {**app_config, "CONTENT_DIR": str(folder)}


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
    red, green, blue = (int(x) for x in background[background.index("(") + 1 : -1].split(",")[:3])
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


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", FORMAT_PAGES)
def test_page_format_parts_have_no_axe_violations(page, live_server, fixture_pages, name, scheme):
    """Care cards (contrast of white on blue and red, the dark emergency body), key facts, safety,
    the research page and the printable summary, in both colour schemes."""
    page.emulate_media(color_scheme=scheme)
    goto(page, live_server, FORMAT_PAGES[name])
    assert_axe_clean(page)


@pytest.mark.parametrize("name", FORMAT_PAGES)
def test_page_format_parts_reflow_at_320_px(page, live_server, fixture_pages, name):
    page.set_viewport_size({"width": 320, "height": 640})
    goto(page, live_server, FORMAT_PAGES[name])
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{FORMAT_PAGES[name]} scrolls sideways: {width}px wide"


@pytest.mark.parametrize("url", ["/treatments/testamol", "/treatments/testamol/research"])
def test_evidence_table_is_a_stack_of_cards_at_320_px(page, live_server, fixture_pages, url):
    page.set_viewport_size({"width": 320, "height": 640})
    goto(page, live_server, url)
    region = page.locator(".evidence .table-wrap")
    assert region.evaluate("el => el.scrollWidth <= el.clientWidth"), "the evidence must not scroll sideways"
    rows = page.locator(".evidence-table tbody tr")
    boxes = [rows.nth(i).bounding_box() for i in range(rows.count())]
    assert len(boxes) == 2
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= 320 for b in boxes), boxes
    assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"], "cards stack one above the other"
    label = page.locator(".evidence-table tbody tr").first.locator(".cell-label").last
    assert label.is_visible() and label.inner_text().strip() == "Certainty:"
    assert not page.locator(".evidence-table thead").is_visible() or page.locator(".evidence-table thead").bounding_box()["height"] <= 1
    # On a wide screen it is a table again, with column headings and no repeated labels.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.locator(".evidence-table thead th").first.is_visible()
    assert not label.is_visible()


def test_citation_and_reference_links_are_at_least_24_px_targets(page, live_server, fixture_pages):
    goto(page, live_server, "/treatments/testamol")
    sizes = page.evaluate("""() => [...document.querySelectorAll('a.cite-link, a.ref-link, a.ref-back')]
        .map(a => { const r = a.getBoundingClientRect(); return [a.className, r.width, r.height]; })""")
    assert len(sizes) >= 8
    small = [s for s in sizes if s[1] < 24 or s[2] < 24]
    assert not small, f"targets under 24 x 24 px: {small}"


def test_reference_links_back_to_its_first_citation_by_keyboard(page, live_server, fixture_pages):
    goto(page, live_server, "/treatments/testamol")
    back = page.locator("#ref-2 a.ref-back")
    back.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#cite-2"
    assert page.locator("#cite-2").is_visible()


def test_print_puts_site_address_and_review_status_on_page_one(page, live_server, fixture_pages):
    goto(page, live_server, "/treatments/testamol")
    page.emulate_media(media="print")
    masthead = page.locator(".print-masthead")
    assert masthead.is_visible() and masthead.inner_text().endswith("/treatments/testamol")
    assert masthead.inner_text().startswith("LDN Guide")
    # Above the body: the masthead, then h1, key facts, safety and review status.
    order = (".print-masthead", "h1", ".key-facts", ".safety", ".review-status", ".prose")
    tops = [page.locator(s).first.bounding_box()["y"] for s in order]
    assert tops == sorted(tops), tops
    link = page.locator(".prose a[href='/conditions/test-pain']")
    assert link.evaluate("el => getComputedStyle(el, '::after').content") == '" (http://localhost/conditions/test-pain)"'
    research = page.locator(".research-link a")
    after = research.evaluate("el => getComputedStyle(el, '::after').content")
    assert live_server not in after and "/treatments/testamol/research" in after and after.count("http") == 1
    assert page.locator(".evidence h2").evaluate("el => getComputedStyle(el).breakAfter") == "avoid"
    assert page.locator(".care-card").first.evaluate("el => getComputedStyle(el).breakInside") == "avoid"
    page.emulate_media(media="screen")
    assert not masthead.is_visible()


def test_printable_summary_prints_ruled_space_for_notes(page, live_server, fixture_pages):
    goto(page, live_server, "/treatments/testamol/summary")
    page.emulate_media(media="print")
    assert page.locator(".summary-source").inner_text().startswith("LDN Guide")
    lines = page.locator(".summary-questions .note-lines")
    assert lines.count() == 2
    height = lines.first.bounding_box()["height"]
    assert height >= 50, f"note space is only {height}px"
    assert page.locator(".breadcrumb").evaluate("el => getComputedStyle(el).display") == "none"


def _printed_pages(page) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", page.pdf(format="A4")))


def test_printable_summaries_fit_on_one_or_two_pages(page, live_server, fixture_pages):
    goto(page, live_server, "/treatments/testamol/summary")
    assert 1 <= _printed_pages(page) <= 2
    # The full page is longer: the count is real, not always 1.
    goto(page, live_server, "/treatments/testamol")
    assert _printed_pages(page) > 2


def test_printable_summaries_of_site_pages_fit_on_one_or_two_pages(page, live_server):
    for content_page in (p for p in _PAGES if p.has_summary):
        goto(page, live_server, content_page.url + "/summary")
        assert _printed_pages(page) <= 2, f"{content_page.url}/summary prints on more than 2 pages"


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
@pytest.mark.parametrize(
    "selector", [".prose a", "nav.contents a", "section.references a", ".discuss button", ".site-nav a", "#header-search-q"]
)
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
