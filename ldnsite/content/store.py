"""Loads site/*.md (YAML front matter + Markdown) into Page objects, re-parsing only changed files.

Why a store with a signature check: pages are read thousands of times for
each time they change, so they are parsed once per change and kept rendered
in memory, and an edited file shows up without a restart.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from ldnsite.content.markdown import render_page_markdown

KINDS = ("article", "condition", "treatment", "info")
PATTERNS = ("medicine", "condition", "therapy", "research", "info")
URL_PREFIX = {"article": "/treatments/", "treatment": "/treatments/", "condition": "/conditions/", "info": "/"}
# Parents of research pages: the page a research page belongs to is served under this prefix.
PARENT_PREFIX = {"article": "/treatments/", "treatment": "/treatments/", "condition": "/conditions/"}
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.S)


@dataclass
class Reference:
    key: str
    number: int
    authors: str
    title: str
    journal: str
    year: int | str
    pmid: str | None = None
    doi: str | None = None
    url: str | None = None  # an official guideline or regulator page, allowed instead of a PMID or DOI
    note: str | None = None  # section or recommendation number

    @property
    def authors_text(self) -> str:
        """Authors as one sentence: "Smith J, et al." stays as it is, never "et al.."."""
        return _sentence(self.authors)

    @property
    def title_text(self) -> str:
        return _sentence(self.title)

    @property
    def journal_text(self) -> str:
        return _sentence(self.journal)


def _sentence(text: str) -> str:
    """Text ending in exactly one stop, whether or not the writer typed one."""
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


@dataclass
class Page:
    slug: str
    title: str
    kind: str
    summary: str
    path: Path
    mtime: float
    body_source: str
    html: str = ""
    toc: list[tuple[str, str]] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)
    reviewed: date | None = None
    next_review: date | None = None
    reviewer: dict = field(default_factory=dict)
    cited_keys: list[str] = field(default_factory=list)
    internal_links: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    pattern: str = ""
    parent: str = ""
    key_facts: list[str] = field(default_factory=list)
    evidence_rating: str = ""
    evidence_line: str = ""
    safety: str = ""
    questions: list[str] = field(default_factory=list)
    # Filled by the renderer:
    key_facts_html: list[str] = field(default_factory=list)
    evidence_line_html: str = ""
    safety_html: str = ""
    questions_html: list[str] = field(default_factory=list)
    care_cards: list = field(default_factory=list)
    prose: list[str] = field(default_factory=list)  # paragraphs and list items, for the reading level
    key_fact_prose: list[str] = field(default_factory=list)
    first_citation: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """Where the page is served. A research page lives under the page it belongs to."""
        if self.is_research_child:
            return f"{PARENT_PREFIX.get(self.kind, '/treatments/')}{self.parent}/research"
        return URL_PREFIX.get(self.kind, "/") + self.slug

    @property
    def is_research_child(self) -> bool:
        return self.pattern == "research" and bool(self.parent)

    @property
    def has_summary(self) -> bool:
        """Pages with a printable summary: those with key facts, outside the research and info patterns."""
        return bool(self.key_facts) and self.kind != "info" and self.pattern not in ("research", "info")

    def reference(self, key: str) -> Reference | None:
        return next((r for r in self.references if r.key == key), None)


class ContentError(ValueError):
    """A page that cannot be read; `flask content check` reports these one per line."""


def parse_file(path: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    match = FRONT_MATTER.match(text)
    if not match:
        raise ContentError(f"{path.name}: no YAML front matter between --- lines")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ContentError(f"{path.name}: front matter is not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(meta, dict):
        raise ContentError(f"{path.name}: front matter must be a mapping")
    refs = []
    for number, ref in enumerate(meta.get("references") or [], start=1):
        if not isinstance(ref, dict):
            raise ContentError(f"{path.name}: reference {number} must be a mapping")
        refs.append(
            Reference(
                key=str(ref.get("key", "")),
                number=number,
                authors=str(ref.get("authors", "")),
                title=str(ref.get("title", "")),
                journal=str(ref.get("journal", "")),
                year=ref.get("year", ""),
                pmid=str(ref["pmid"]) if ref.get("pmid") else None,
                doi=str(ref["doi"]) if ref.get("doi") else None,
                url=str(ref["url"]) if ref.get("url") else None,
                note=str(ref["note"]) if ref.get("note") else None,
            )
        )
    page = Page(
        slug=str(meta.get("slug") or path.stem),
        title=str(meta.get("title", "")),
        kind=str(meta.get("kind", "")),
        summary=str(meta.get("summary", "")),
        path=path,
        mtime=path.stat().st_mtime,
        body_source=match.group(2),
        conditions=list(meta.get("conditions") or []),
        keywords=[str(k) for k in meta.get("keywords") or []],
        related=list(meta.get("related") or []),
        references=refs,
        evidence=list(meta.get("evidence") or []),
        reviewed=meta.get("reviewed"),
        next_review=meta.get("next_review"),
        reviewer=meta.get("reviewer") or {},
        meta=meta,
        pattern=str(meta.get("pattern") or ""),
        parent=str(meta.get("parent") or ""),
        key_facts=[str(f) for f in _as_list(meta.get("key_facts"))],
        evidence_rating=str(meta.get("evidence_rating") or ""),
        evidence_line=str(meta.get("evidence_line") or ""),
        safety=str(meta.get("safety") or ""),
        questions=[str(q) for q in _as_list(meta.get("questions"))],
    )
    render_page_markdown(page)
    return page


def _as_list(value) -> list:
    """A list field written as one string is one item, not one item per character."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _file_signature(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


class ContentStore:
    def __init__(self, folder: Path, reload_interval: float = 1.0) -> None:
        self.folder = folder
        self.reload_interval = reload_interval
        self._lock = threading.Lock()
        self._signature: tuple = ()
        self._checked = 0.0
        self._pages: dict[str, Page] = {}
        self.errors: list[str] = []
        self.generation = 0

    def _current_signature(self) -> tuple:
        return tuple(sorted((p.name, *_file_signature(p)) for p in self.folder.glob("*.md")))

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.reload_interval:
            return
        with self._lock:
            self._checked = now
            signature = self._current_signature()
            if signature == self._signature and not force:
                return
            old = {p.path.name: p for p in self._pages.values()}
            old_signatures = {name: (mtime_ns, size) for name, mtime_ns, size in self._signature}
            pages: dict[str, Page] = {}
            errors: list[str] = []
            for path in sorted(self.folder.glob("*.md")):
                cached = old.get(path.name)
                # Size as well as time: two saves within one clock tick share an mtime.
                unchanged = cached is not None and old_signatures.get(path.name) == _file_signature(path)
                try:
                    page = cached if unchanged else parse_file(path)
                except ContentError as exc:
                    errors.append(str(exc))
                    continue
                if page.slug in pages:
                    errors.append(f"{path.name}: slug {page.slug!r} is already used by {pages[page.slug].path.name}")
                    continue
                pages[page.slug] = page
            self._pages, self.errors, self._signature = pages, errors, signature
            self.generation += 1

    def get(self, slug: str) -> Page | None:
        self.refresh()
        return self._pages.get(slug)

    def all(self) -> list[Page]:
        self.refresh()
        return sorted(self._pages.values(), key=lambda p: p.title.lower())

    def of_kind(self, *kinds: str) -> list[Page]:
        """Pages listed under a heading; research pages are reached from the page they belong to."""
        return [p for p in self.all() if p.kind in kinds and not p.is_research_child]

    def research_for(self, parent_slug: str) -> Page | None:
        return next((p for p in self.all() if p.is_research_child and p.parent == parent_slug), None)
