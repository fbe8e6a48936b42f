"""The page patterns (NHS.UK style) that `flask content check` enforces on pages that declare `pattern:`.

Why per pattern: a reader who knows one medicine page should find the same
sections, in the same order, on every other one, and the safety advice
(care cards with 111 and 999) where they expect it. Pages without
`pattern:` keep only the general checks, so older pages still pass while
they are rewritten.

Headings are matched case-insensitively from their start, so
"Does LDN work for fibromyalgia?" matches "Does X work". Other H2 sections
may sit between the required ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from ldnsite.content.markdown import CARE_LEVELS, heading_outline
from ldnsite.content.store import PATTERNS, Page

X = ".+"
REQUIRED_SECTIONS: dict[str, list[str]] = {
    "medicine": [
        f"Does {X} work",
        f"Who can and cannot (take|have) {X}",
        f"How to take {X}",
        "Side effects",
        f"Taking {X} with other medicines",
        "Pregnancy and breastfeeding",
        "Licensing in the UK",
        "Questions to ask your doctor",
    ],
    "condition": [
        "Symptoms",
        "When to see a GP",
        "Treatment",
        "Things you can do yourself",
        "Support organisations",
        "Questions to ask your doctor",
    ],
    "therapy": [f"Does {X} work", "Who it may help", "Risks and side effects", "Questions to ask your doctor"],
}
# Sections one page needs besides its pattern's, anywhere among its H2s.
EXTRA_SECTIONS: dict[str, list[str]] = {"me-cfs": ["Severe and very severe ME/CFS"]}
# The H3s of a medicine's "How to take" section: (what the reader needs, how its heading may read).
HOW_TO_TAKE_PARTS = [
    ("the dose", r"(?!.*(miss|forg|too much)).*\b(dose|doses|dosage|dosing|how much)\b"),
    ("a missed dose", r".*\b(miss|forg)"),
    ("taking too much", r".*too much"),
    ("stopping", r".*\bstop"),
]
LOCAL_NUMBER = "local emergency number"
KEY_FACTS_RANGE = (3, 7)
RATINGS = ("high", "moderate", "low", "very low")
WITH_KEY_FACTS = ("medicine", "condition", "therapy")
WITH_RATING = ("medicine", "therapy")
# A body section that repeats the "Related pages" list the page template already shows.
DUPLICATE_RELATED = re.compile(r"^(related pages|other pages that may help|see also|more information)\b", re.I)
# Official guideline, regulator and NIH pages a reference may cite by address instead of PMID or DOI.
OFFICIAL_HOSTS = (
    "nice.org.uk",
    "gov.uk",
    "nhs.uk",
    "fda.gov",
    "accessdata.fda.gov",
    "ema.europa.eu",
    "medicines.org.uk",
    "who.int",
    "clinicaltrials.gov",
    "dailymed.nlm.nih.gov",  # the US National Library of Medicine's copy of FDA labels
    "scottishmedicines.org.uk",  # Scottish Medicines Consortium, NHS Scotland's medicines adviser
    "medicinesinpregnancy.org",  # UK Teratology Information Service (UKHSA-commissioned)
)
OFFICIAL_PATHS = {"ncbi.nlm.nih.gov": "/books/"}  # LactMed and other NCBI Bookshelf texts only


def official_url_problem(url: str) -> str | None:
    """Why this address may not stand in for a PMID or DOI, or None if it may."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        return "must start with https://"
    if any(host == d or host.endswith("." + d) for d in OFFICIAL_HOSTS):
        return None
    for domain, prefix in OFFICIAL_PATHS.items():
        if (host == domain or host.endswith("." + domain)) and parts.path.startswith(prefix):
            return None
    return "is not an official guideline, regulator or NIH address (the list is in docs/editorial.md)"


def _matches(pattern: str) -> Callable[[str], bool]:
    regex = re.compile(pattern, re.I)
    return lambda heading: regex.match(heading.strip()) is not None


def section_problems(headings: list[str], required: list[str]) -> list[str]:
    """Each required heading present, and in the given order."""
    out, position = [], 0
    for pattern in required:
        match = _matches(pattern)
        found = next((i for i in range(position, len(headings)) if match(headings[i])), None)
        if found is not None:
            position = found + 1
        elif any(match(h) for h in headings):
            out.append(f"section '{pattern}' is out of order (required order: {' · '.join(required)})")
        else:
            out.append(f"has no section '{pattern}' (an H2 heading)")
    return out


def _h3s_under(page: Page, h2_pattern: str) -> list[str]:
    """H3 headings of the first H2 section whose heading matches."""
    h3s, inside = [], False
    match = _matches(h2_pattern)
    for level, text in heading_outline(page.body_source):
        if level == 2:
            if inside:
                break
            inside = match(text)
        elif level == 3 and inside:
            h3s.append(text)
    return h3s


def pattern_problems(page: Page, pages: dict[str, Page]) -> list[str]:
    """The structure rules of the page's pattern. Pages without `pattern:` get none."""
    pattern = page.pattern
    if not pattern:
        return [f"parent is only for research pages (pattern: research), not {page.slug}"] if page.parent else []
    if pattern not in PATTERNS:
        return [f"pattern {pattern!r} is not one of {', '.join(PATTERNS)}"]
    out = []
    headings = [text for _anchor, text in page.toc]
    out += section_problems(headings, REQUIRED_SECTIONS.get(pattern, []))
    for extra in EXTRA_SECTIONS.get(page.slug, []):
        if not any(_matches(extra)(h) for h in headings):
            out.append(f"has no section '{extra}' (an H2 heading)")
    if pattern == "medicine":
        h3s = _h3s_under(page, f"How to take {X}")
        for need, regex in HOW_TO_TAKE_PARTS:
            if not any(re.match(regex, h, re.I) for h in h3s):
                out.append(f"'How to take' section has no H3 about {need}")
    if pattern in WITH_KEY_FACTS:
        low, high = KEY_FACTS_RANGE
        if not low <= len(page.key_facts) <= high:
            out.append(f"has {len(page.key_facts)} key facts ({low} to {high} needed)")
        if not page.questions:
            out.append("has no questions (front matter 'questions:', shown under 'Questions to ask your doctor')")
    if pattern in WITH_RATING:
        if not page.evidence_rating:
            out.append(f"has no evidence_rating ({', '.join(RATINGS)})")
        if not page.evidence_line:
            out.append("has no evidence_line (one plain sentence on what the evidence shows)")
    out += _care_card_problems(page)
    for row in page.evidence:
        if not row.get("certainty"):
            out.append(f"evidence row {row.get('study', '?')!r} has no certainty ({', '.join(RATINGS)})")
    if pattern == "research":
        out += _research_problems(page, pages)
    elif page.parent:
        out.append("parent is only for research pages (pattern: research)")
    out += [
        f"section '{h}' repeats the related pages list; name the pages in front matter 'related:' instead"
        for h in headings
        if DUPLICATE_RELATED.match(h)
    ]
    return out


def _care_card_problems(page: Page) -> list[str]:
    out = []
    levels = {c.level for c in page.care_cards}
    if page.pattern == "medicine":
        in_side_effects = {c.level for c in page.care_cards if _matches("Side effects")(c.section)}
        for level in ("urgent", "emergency"):
            if level not in in_side_effects:
                out.append(f"'Side effects' section has no {level} care card (::: care {level})")
    if page.pattern == "condition" and not levels & {"urgent", "emergency"}:
        out.append("has no urgent or emergency care card (::: care urgent or ::: care emergency)")
    for card in page.care_cards:
        if "999" in card.heading + card.text and LOCAL_NUMBER not in card.text.lower():
            out.append(f"care card '{card.heading}' gives 999 but not the local emergency number outside the UK")
    prose = " ".join(page.prose).lower()
    if "999" in prose and LOCAL_NUMBER not in prose:
        out.append("gives 999 but never the local emergency number outside the UK")
    return out


def _research_problems(page: Page, pages: dict[str, Page]) -> list[str]:
    if not page.parent:
        return ["research page has no parent (the page it belongs to)"]
    parent = pages.get(page.parent)
    if parent is None:
        return [f"parent {page.parent!r} does not exist"]
    if parent.pattern == "research" or parent.kind not in ("article", "treatment"):
        return [f"parent {page.parent!r} must be a treatment page"]
    return []


def card_problems(page: Page) -> list[str]:
    """Care card mistakes any page can make: a misspelt level, no heading line."""
    out = []
    for card in page.care_cards:
        if card.level not in CARE_LEVELS:
            out.append(f"care card level {card.level!r} is not one of {', '.join(CARE_LEVELS)}")
        if not card.heading:
            out.append(f"care card ({card.level}) must start with a heading line, e.g. 'Call 111 if:'")
    return out
