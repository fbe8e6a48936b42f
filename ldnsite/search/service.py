"""The query service: pooled searchers refreshed when the index changes, and a result cache.

Why a pool rather than one shared searcher: without memory mapping Whoosh
reads files through shared file objects, which are not safe for two threads
at once. Each request borrows a searcher, replaces it if the index changed
(one directory listing tells), and gives it
back, so a process keeps one searcher per concurrent request and opens a new
one only after the index changed.

Ranking is ranking.py's, over the whole corpus; this module orders the two
passes: the best pages (up to LEAD_PAGES) first, then the forum ranked on
its own, then the other pages, then results that match only some words.

Results are ids only (kind, ref). The caller loads the rows and checks them
against the database (see results.py), so the cache can never show a post
the database has hidden since.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from ldnsite.content import store as content_store
from ldnsite.search.indexer import Indexer
from ldnsite.search.query import BuiltQuery, QueryBuilder
from ldnsite.search.querylang import ParsedQuery, parse
from ldnsite.search.ranking import PostingCache, Ranked, Ranker
from ldnsite.search.repair import IndexUnavailable
from ldnsite.search.storage import IndexStore

KINDS = ("all", "pages", "forum")
SORTS = ("relevance", "date")
PER_PAGE = 10
MAX_PAGE = 20
POOL_SIZE = 8
CACHE_SIZE = 512
LEAD_PAGES = 3  # the best pages that lead the results, whatever the size of the forum
LEAD_SHARE = 0.5  # a page leads only if it scores at least this share of the best page
PARENT_SHARE = 0.8  # a page goes ahead of its own research page when it scores at least this share of it


@dataclass(frozen=True)
class Hit:
    kind: str  # page | topic | post
    ref: str
    url: str
    date: datetime | None


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


class SearcherPool:
    def __init__(self, store: IndexStore, indexer: Indexer) -> None:
        self.store = store
        self.indexer = indexer
        self._lock = threading.Lock()
        self._signature: tuple | None = None
        self._ix = None
        self._idle: list = []
        self.generation_name = ""

    def _current(self):
        """Reopen when the `current` pointer moved (a rebuild swapped in a new index)."""
        signature = self.store.pointer_signature()
        if signature is None:
            raise IndexUnavailable("there is no index")  # never built inside a request (repair.py)
        if signature != self._signature or self._ix is None:
            gen = self.store.live()
            if gen is None:
                raise IndexUnavailable("the index pointer names no index")
            for s in self._idle:
                s.close()
            self._idle, self._ix, self._signature = [], gen.open(), signature
            self.generation_name = gen.name
        return self._ix

    @contextlib.contextmanager
    def searcher(self) -> Iterator:
        with self._lock:
            ix = self._current()
            s = self._idle.pop() if self._idle else None
        if s is not None and not s.up_to_date():
            # A fresh searcher rather than Searcher.refresh(): in Whoosh 2.7.x refresh(reuse=...) can hand
            # back segment readers that the old searcher's cleanup closes later (ReaderClosed).
            s.close()
            s = None
        if s is None:
            s = ix.searcher()
        try:
            yield s
        finally:
            with self._lock:
                if ix is self._ix and len(self._idle) < POOL_SIZE:
                    self._idle.append(s)
                else:
                    s.close()

    def close(self) -> None:
        with self._lock:
            for s in self._idle:
                s.close()
            self._idle, self._ix, self._signature = [], None, None


class SearchService:
    def __init__(self, store: IndexStore, indexer: Indexer, cache_mb: int) -> None:
        self.pool = SearcherPool(store, indexer)
        self.postings = PostingCache(cache_mb * 1024 * 1024)
        self._corrections: dict[str, dict] = {}  # per index generation: word -> suggestion
        self._cache: OrderedDict = OrderedDict()
        self._cache_lock = threading.Lock()

    def search(self, raw: str, kind: str = "all", sort: str = "relevance", page: int = 1) -> Outcome:
        parsed = parse(raw)
        page = max(1, min(page, MAX_PAGE))
        with self.pool.searcher() as searcher:
            # The directory as well as its generation: a rebuilt index starts counting generations again.
            key = (parsed.cleaned, kind, sort, page, self.pool.generation_name, searcher.ixreader.generation())
            with self._cache_lock:
                cached = self._cache.get(key)
                if cached is not None:
                    self._cache.move_to_end(key)
                    return cached
            outcome = self._run(searcher, parsed, kind, sort, page)
        with self._cache_lock:
            self._cache[key] = outcome
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return outcome

    def _run(self, searcher, parsed: ParsedQuery, kind: str, sort: str, page: int) -> Outcome:
        outcome = Outcome(query=parsed.cleaned, truncated=parsed.truncated, page=page,
                          analyzer=searcher.schema["body"].analyzer)
        corrections = self._corrections.setdefault(self.pool.generation_name, {})
        if len(self._corrections) > 2:
            self._corrections = {self.pool.generation_name: corrections}
        built: BuiltQuery = QueryBuilder(searcher, corrections).build(parsed)
        outcome.did_you_mean = built.did_you_mean
        outcome.highlight_terms = built.highlight_terms
        if built.plan is None:
            return outcome
        ranker = Ranker(searcher, self.postings)
        by_date = sort == "date"
        limit = page * PER_PAGE
        pages = ranker.rank(built.plan, pages=True, by_date=by_date, limit=limit) if kind != "forum" else None
        forum = ranker.rank(built.plan, pages=False, by_date=by_date, limit=limit) if kind != "pages" else None
        order = _arrange(pages, forum, by_date)
        if not by_date and pages is not None:
            order = _parents_first(order, searcher, pages, built.highlight_terms)
        total = (pages.total if pages else 0) + (forum.total if forum else 0)
        if total == 0:
            return outcome
        outcome.total = total
        outcome.full = (pages.full if pages else 0) + (forum.full if forum else 0)
        outcome.any_words = outcome.full == 0
        outcome.pages = min(MAX_PAGE, math.ceil(total / PER_PAGE))
        outcome.page = page = min(page, outcome.pages)  # past the end: the last page rather than an empty one
        for docnum in order[(page - 1) * PER_PAGE: page * PER_PAGE]:
            stored = searcher.stored_fields(int(docnum))
            outcome.hits.append(Hit(stored["kind"], stored["ref"], stored.get("url", ""), stored.get("date")))
        return outcome


def _parents_first(order: list[int], searcher, pages: Ranked, terms: frozenset[str]) -> list[int]:
    """A page goes ahead of its own research page when the two score alike, unless the query names the research.

    Why: a research page repeats its parent's words many times over (every
    study mentions the medicine and its dose), so it can outscore the page a
    reader needs first, with the safety facts on it. A query with a word of
    the research page's own title that the parent's lacks ("ldn research")
    asked for the detail, and gets it first.
    """
    stored = {int(d): searcher.stored_fields(int(d)) for d in pages.docnums[:LEAD_PAGES * 2]}
    url_of = {d: fields.get("url", "") for d, fields in stored.items()}
    title_analyzer = searcher.schema["title"].analyzer

    def title_terms(doc: int) -> set[str]:
        page = content_store().get(stored[doc].get("ref", ""))
        return {t.text for t in title_analyzer(page.title)} if page is not None else set()

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

