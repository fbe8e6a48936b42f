"""The query service: everything above the engine, shared by both engines (engine.py).

It parses, builds the plan (query.py: synonyms, question words, spelling),
asks the engine to rank the two passes (pages and forum, each with its own
statistics), orders them: the best pages (up to LEAD_PAGES) first, then the
forum, then the other pages, then results that match only some words; and
counts and pages them. A result cache is kept per engine snapshot key (the
Whoosh index generation; PostgreSQL has none, so it is not cached).

Results are ids only (kind, ref). The caller loads the rows and checks them
against the database (see results.py), so the cache can never show a post
the database has hidden since.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from ldnsite.content import store as content_store
from ldnsite.search.query import BuiltQuery, QueryBuilder
from ldnsite.search.querylang import ParsedQuery, parse
from ldnsite.search.ranking import Ranked

KINDS = ("all", "pages", "forum")
SORTS = ("relevance", "date")
PER_PAGE = 10
MAX_PAGE = 20
CACHE_SIZE = 512
LEAD_PAGES = 3  # the best pages that lead the results, whatever the size of the forum
LEAD_SHARE = 0.5  # a page leads only if it scores at least this share of the best page
PARENT_SHARE = 0.8  # a page goes ahead of its own research page when it scores at least this share of it


@dataclass(frozen=True)
class Hit:
    kind: str  # page | topic | post
    ref: str  # a page's slug or a database id: rows and URLs come from the database and the content store


@dataclass
class Outcome:
    query: str  # the cleaned query that was searched
    total: int = 0
    page: int = 1
    pages: int = 0
    hits: list[Hit] = field(default_factory=list)
    did_you_mean: str | None = None
    full: int = 0  # results that match every word; the rest (total - full) match at least half of them
    any_words: bool = False  # no result had every word, so these match some of them
    truncated: bool = False
    highlight_terms: frozenset[str] = frozenset()
    analyzer: object = None  # the index's analyzer, so snippets mark synonym forms too


class SearchService:
    def __init__(self, engine) -> None:
        self.engine = engine
        self._cache: OrderedDict = OrderedDict()
        self._cache_lock = threading.Lock()

    # The Whoosh engine's parts, where the benchmark and tests reach for them.
    @property
    def pool(self):
        return self.engine.pool

    @property
    def postings(self):
        return self.engine.postings

    @property
    def _corrections(self) -> dict:
        return self.engine._corrections

    def problems(self) -> list[str]:
        return self.engine.problems()

    def search(self, raw: str, kind: str = "all", sort: str = "relevance", page: int = 1) -> Outcome:
        parsed = parse(raw)
        page = max(1, min(page, MAX_PAGE))
        with self.engine.snapshot() as snap:
            key = (parsed.cleaned, kind, sort, page, snap.key) if snap.key is not None else None
            if key is not None:
                with self._cache_lock:
                    cached = self._cache.get(key)
                    if cached is not None:
                        self._cache.move_to_end(key)
                        return cached
            outcome = self._run(snap, parsed, kind, sort, page)
        if key is not None:
            with self._cache_lock:
                self._cache[key] = outcome
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return outcome

    def _run(self, snap, parsed: ParsedQuery, kind: str, sort: str, page: int) -> Outcome:
        outcome = Outcome(query=parsed.cleaned, truncated=parsed.truncated, page=page, analyzer=snap.analyzer)
        built: BuiltQuery = QueryBuilder(snap, snap.corrections).build(parsed)
        outcome.did_you_mean = built.did_you_mean
        outcome.highlight_terms = built.highlight_terms
        if built.plan is None:
            return outcome
        by_date = sort == "date"
        limit = page * PER_PAGE
        pages = snap.rank(built.plan, pages=True, by_date=by_date, limit=limit) if kind != "forum" else None
        forum = snap.rank(built.plan, pages=False, by_date=by_date, limit=limit) if kind != "pages" else None
        order = _arrange(pages, forum, by_date)
        if not by_date and pages is not None:
            order = _parents_first(order, snap, pages, built.highlight_terms)
        total = (pages.total if pages else 0) + (forum.total if forum else 0)
        if total == 0:
            return outcome
        outcome.total = total
        outcome.full = (pages.full if pages else 0) + (forum.full if forum else 0)
        outcome.any_words = outcome.full == 0
        outcome.pages = min(MAX_PAGE, math.ceil(total / PER_PAGE))
        outcome.page = page = min(page, outcome.pages)  # past the end: the last page rather than an empty one
        for docnum in order[(page - 1) * PER_PAGE : page * PER_PAGE]:
            stored = snap.stored(int(docnum))
            outcome.hits.append(Hit(stored["kind"], stored["ref"]))
        return outcome


def _parents_first(order: list[int], snap, pages: Ranked, terms: frozenset[str]) -> list[int]:
    """A page goes ahead of its own research page when the two score alike, unless the query names the research.

    Why: a research page repeats its parent's words many times over (every
    study mentions the medicine and its dose), so it can outscore the page a
    reader needs first, with the safety facts on it. A query with a word of
    the research page's own title that the parent's lacks ("ldn research")
    asked for the detail, and gets it first.
    """
    store = content_store()
    shown = {int(d): store.get(snap.stored(int(d)).get("ref", "")) for d in pages.docnums[: LEAD_PAGES * 2]}
    page_of = {d: page for d, page in shown.items() if page is not None}
    url_of = {d: page.url for d, page in page_of.items()}
    title_analyzer = snap.title_analyzer

    def title_terms(doc: int) -> set[str]:
        return {t.text for t in title_analyzer(page_of[doc].title)}

    def asks_for_detail(research: int, parent: int) -> bool:
        return bool(terms & (title_terms(research) - title_terms(parent)))

    score_of = {int(d): float(s) for d, s in zip(pages.docnums, pages.scores, strict=True)}
    docnum_of = {url: d for d, url in url_of.items()}
    order = list(order)
    for doc, url in url_of.items():
        parent = docnum_of.get(url.removesuffix("/research")) if url.endswith("/research") else None
        if parent is None or doc not in order or parent not in order or order.index(parent) < order.index(doc):
            continue
        if asks_for_detail(doc, parent):
            continue  # "ldn research": the reader asked for the research page by a word of its own title
        if score_of[parent] >= PARENT_SHARE * score_of[doc]:
            order.remove(parent)
            order.insert(order.index(doc), parent)
    return order


def _arrange(pages: Ranked | None, forum: Ranked | None, by_date: bool) -> list[int]:
    """One list from the two passes (each already holds at least as many results as the page shown needs).

    By relevance: the leading pages, then the forum's full matches, the other
    full-match pages, then partial matches (forum, then pages). By date: all
    of them newest first, full matches before partial ones.
    """

    def split(r: Ranked | None) -> tuple[list[int], list[int]]:
        if r is None:
            return [], []
        docs = [int(d) for d in r.docnums]
        full = min(r.full, len(docs))
        return docs[:full], docs[full:]

    page_full, page_partial = split(pages)
    forum_full, forum_partial = split(forum)
    if by_date:
        rows = []
        for r in (pages, forum):
            if r is not None:
                full = min(r.full, len(r.docnums))
                rows += [(n >= full, -int(r.dates[n]), int(r.docnums[n])) for n in range(len(r.docnums))]
        return [doc for _, _, doc in sorted(rows)]
    # Pages that match every word lead; pages matching only some lead only when the forum has no full match.
    lead_source = page_full or ([] if forum_full else page_partial)
    lead: list[int] = []
    if lead_source and pages is not None:
        scores = {int(d): float(s) for d, s in zip(pages.docnums, pages.scores, strict=True)}
        best = scores[lead_source[0]]
        lead = [d for d in lead_source[:LEAD_PAGES] if scores[d] >= LEAD_SHARE * best]
    rest_full = [d for d in page_full if d not in lead]
    rest_partial = [d for d in page_partial if d not in lead]
    return lead + forum_full + rest_full + forum_partial + rest_partial
