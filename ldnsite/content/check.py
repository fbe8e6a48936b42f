"""`flask content check`: every problem in site/ on its own line, non-zero exit if any, then the reading level of every page.

Why: a health page without sources, with a lapsed review date or a broken
link must be caught before it is published, not by a reader. The rules of
each page pattern (required sections, care cards, key facts) live in
`patterns`; the reading level in `readability`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from ldnsite.content import patterns, readability
from ldnsite.content.store import KINDS, ContentStore, Page

REQUIRED = ("title", "slug", "kind", "summary", "reviewed", "next_review", "reviewer")
PMID = re.compile(r"^\d{1,9}$")
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
EVIDENCE_KEYS = ("study", "year", "design", "participants", "dose", "duration", "result", "ref")
# Routes whose pages come from site/: a link to one resolves only if that page exists.
PAGE_ENDPOINTS = {"content.treatment", "content.condition", "content.privacy", "content.accessibility", "content.about"}


def problems(store: ContentStore, today: date | None = None) -> list[str]:
    today = today or date.today()
    store.refresh(force=True)
    found = list(store.errors)
    pages = {p.slug: p for p in store.all()}
    page_urls = {p.url for p in pages.values()}

    def resolves(path: str) -> bool:
        return path in page_urls or _served_by_code(path)

    for page in pages.values():
        found += [f"{page.path.name}: {msg}" for msg in _page_problems(page, pages, resolves, today)]
        found += [f"{page.path.name}: {msg}" for msg in patterns.pattern_problems(page, pages)]
        found += [f"{page.path.name}: {msg}" for msg in patterns.card_problems(page)]
        found += [f"{page.path.name}: {msg}" for msg in readability.over_limit(page, readability.measure(page))]
    return found


def reading_levels(store: ContentStore) -> list[tuple[str, readability.Reading]]:
    return [(page.path.name, readability.measure(page)) for page in sorted(store.all(), key=lambda p: p.path.name)]


def _served_by_code(path: str) -> bool:
    """Whether one of the app's own routes (forum, search, opt-out, ...) answers GET at this path."""
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(path, method="GET")
    except RequestRedirect:  # e.g. /forum without its slash: it still reaches the page
        return True
    except HTTPException:
        return False
    return endpoint not in PAGE_ENDPOINTS and endpoint != "static"


def _page_problems(page: Page, pages: dict[str, Page], resolves: Callable[[str], bool], today: date) -> list[str]:
    out = [f"missing front matter field '{k}'" for k in REQUIRED if not page.meta.get(k)]
    if page.kind not in KINDS:
        out.append(f"kind {page.kind!r} is not one of {', '.join(KINDS)}")
    if page.slug != page.path.stem:
        out.append(f"slug {page.slug!r} does not match the file name")
    for name in ("reviewed", "next_review"):
        if page.meta.get(name) and not isinstance(page.meta[name], date):
            out.append(f"{name} is not a date (YYYY-MM-DD)")
    if isinstance(page.reviewed, date) and isinstance(page.next_review, date):
        if page.reviewed > today:
            out.append(f"reviewed date {page.reviewed} is in the future")
        if page.next_review <= page.reviewed:
            out.append("next_review must be after reviewed")
        if page.next_review < today:
            out.append(f"review overdue since {page.next_review}")
    if not isinstance(page.reviewer, dict) or not page.reviewer.get("name") or not page.reviewer.get("credential"):
        out.append("reviewer needs a name and a credential")
    if page.kind != "info":
        if not page.references:
            out.append("has no references")
        if not page.conditions:
            out.append("names no conditions")
    has_research_page = any(p.is_research_child and p.parent == page.slug for p in pages.values())
    if page.kind in ("article", "treatment") and not page.evidence and not has_research_page:
        # A page whose research page carries the full table may leave out its own short one.
        out.append("has no evidence list (treatment pages show an 'evidence at a glance' table)")
    keys = [r.key for r in page.references]
    for ref in page.references:
        if not ref.key:
            out.append(f"reference {ref.number} has no key")
        if not (ref.pmid or ref.doi or ref.url):
            out.append(f"reference {ref.key or ref.number} has no PMID, DOI or official url")
        if ref.url and (why := patterns.official_url_problem(ref.url)):
            out.append(f"reference {ref.key or ref.number}: url {ref.url} {why}")
        if ref.pmid and not PMID.match(ref.pmid):
            out.append(f"reference {ref.key}: PMID {ref.pmid!r} is not a number")
        if ref.doi and not DOI.match(ref.doi):
            out.append(f"reference {ref.key}: DOI {ref.doi!r} does not look like 10.NNNN/...")
        if ref.key and ref.key not in page.cited_keys:
            out.append(f"reference {ref.key} is never cited in the text")
        if not (ref.title and ref.authors and ref.year):
            out.append(f"reference {ref.key or ref.number} needs authors, title and year")
    out += [f"reference key {k} is listed twice" for k in sorted({k for k in keys if keys.count(k) > 1})]
    out += [f"cites unknown reference [@{k}]" for k in dict.fromkeys(page.cited_keys) if k not in keys]
    if page.evidence_rating and page.evidence_rating not in patterns.RATINGS:
        out.append(f"evidence_rating {page.evidence_rating!r} is not one of {', '.join(patterns.RATINGS)}")
    for row in page.evidence:
        if row.get("certainty") and row["certainty"] not in patterns.RATINGS:
            out.append(
                f"evidence row {row.get('study', '?')!r}: certainty {row['certainty']!r} is not one of " + ", ".join(patterns.RATINGS)
            )
        missing = [k for k in EVIDENCE_KEYS if not row.get(k)]
        if missing:
            out.append(f"evidence row {row.get('study', '?')!r} is missing {', '.join(missing)}")
        elif row["ref"] not in keys:
            out.append(f"evidence row {row['study']!r} points to unknown reference {row['ref']!r}")
    for slug in dict.fromkeys([*page.related, *page.conditions]):  # one line per missing page, however often named
        if slug not in pages:
            out.append(f"names page {slug!r}, which does not exist")
    for link in dict.fromkeys(page.internal_links):
        if not resolves(link.split("#")[0].split("?")[0]):
            out.append(f"links to {link}, which does not exist")
    return out


@click.group("content")
def content_cli() -> None:
    """Editorial content commands."""


@content_cli.command("check")
@with_appcontext
def check_command() -> None:
    """Validate front matter, page structure, references and internal links in site/; report reading levels."""
    content = current_app.extensions["content"]
    found = problems(content)
    click.echo(
        "Reading level (Flesch-Kincaid grade; at most 7 for the core text and 6 for the key facts"
        f" on {'/'.join(readability.LIMITED_PATTERNS)} pages):"
    )
    click.echo("\n".join(readability.table(reading_levels(content))))
    for line in found:
        click.echo(line, err=True)
    if found:
        click.echo(f"{len(found)} problem(s) found", err=True)
        sys.exit(1)
    click.echo(f"content ok: {len(content.all())} pages")
