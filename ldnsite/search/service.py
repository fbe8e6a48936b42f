"""The query service: pooled searchers refreshed when the index changes, and a result cache.

Why a pool rather than one shared searcher: without memory mapping Whoosh
reads files through shared file objects, which are not safe for two threads
at once. Each request borrows a searcher, replaces it if the index changed
(one directory listing tells), and gives it
back, so a process keeps one searcher per concurrent request and opens a new
one only after the index changed.

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

from whoosh.query import Require, Term

from ldnsite.search.collect import MATCH_BUDGET, TIME_BUDGET, BudgetCollector, Deadline, timed
from ldnsite.search.indexer import Indexer
from ldnsite.search.matchers import AndNot
from ldnsite.search.query import BuiltQuery, QueryBuilder
from ldnsite.search.querylang import ParsedQuery, parse
from ldnsite.search.repair import IndexUnavailable
from ldnsite.search.storage import IndexStore
from ldnsite.search.synonyms import SynonymFile

KINDS = ("all", "pages", "forum")
PAGE = Term("kind", "page")
SORTS = ("relevance", "date")
PER_PAGE = 10
MAX_PAGE = 20
POOL_SIZE = 8
CACHE_SIZE = 512
COUNT_CAP = MAX_PAGE * PER_PAGE + 1  # "more than 200 results" is all a reader needs to know


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
    any_words: bool = False  # no result had every word, so these match some of them
    truncated: bool = False
    more: bool = False  # the forum pass stopped at its budget: total counts only what it saw
    highlight_terms: frozenset[str] = frozenset()


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
    def __init__(self, store: IndexStore, indexer: Indexer, synonyms: SynonymFile,
                 match_budget: int = MATCH_BUDGET, time_budget: float = TIME_BUDGET) -> None:
        self.pool = SearcherPool(store, indexer)
        self.synonyms = synonyms
        self.match_budget = match_budget
        self.time_budget = time_budget
        self._cache: OrderedDict = OrderedDict()
        self._cache_lock = threading.Lock()

    def search(self, raw: str, kind: str = "all", sort: str = "relevance", page: int = 1) -> Outcome:
        parsed = parse(raw)
        page = max(1, min(page, MAX_PAGE))
        with self.pool.searcher() as searcher:
            # The directory as well as its generation: a rebuilt index starts counting generations again.
            key = (parsed.cleaned, kind, sort, page, self.pool.generation_name, searcher.ixreader.generation(),
                   id(self.synonyms.get()))
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
        outcome = Outcome(query=parsed.cleaned, truncated=parsed.truncated, page=page)
        built: BuiltQuery = QueryBuilder(searcher, self.synonyms.get()).build(parsed)
        outcome.did_you_mean = built.did_you_mean
        outcome.highlight_terms = built.highlight_terms
        if built.query is None:
            return outcome
        results = self._collect(searcher, built.query, kind, sort, page)
        if results is None and built.any_query is not None:
            results = self._collect(searcher, built.any_query, kind, sort, page)
            outcome.any_words = results is not None
        if results is None:
            return outcome
        total, more, hits, page = results
        outcome.total, outcome.more, outcome.page, outcome.hits = total, more, page, hits
        outcome.pages = min(MAX_PAGE, math.ceil(total / PER_PAGE))
        return outcome

    def _collect(self, searcher, query, kind: str, sort: str, page: int):
        """Pages in one exact pass, the forum in one budgeted pass (collect.py), merged by score or date.

        Require and AndNot take their scores from the query alone, so the
        two passes' scores compare. Stored fields are read only for the hits
        on the page shown.
        """
        by_date = sort == "date"
        limit = page * PER_PAGE
        passes = []
        if kind != "forum":
            passes.append((Require(query, PAGE), None, None))
        if kind != "pages":
            passes.append((AndNot(query, PAGE), self.time_budget, self.match_budget))
        ranked: list[tuple] = []
        total, more = 0, False
        for q, seconds, matches in passes:
            deadline = Deadline(seconds)
            if by_date:
                collector = BudgetCollector(searcher.collector(limit=limit, sortedby="date", reverse=True),
                                            deadline, matches)
            else:
                collector = BudgetCollector.top(limit, deadline, matches)
            searcher.search_with_collector(timed(q, deadline) if seconds is not None else q, collector)
            ranked += collector.results().top_n
            total += collector.scored
            more = more or collector.cut_short
        if total == 0:
            return (0, True, [], 1) if more else None
        page = min(page, math.ceil(total / PER_PAGE))  # past the end: the last page rather than an empty one
        ranked.sort(key=lambda item: (-(item[0] or 0), item[1]))
        hits = []
        for _key, docnum in ranked[(page - 1) * PER_PAGE : page * PER_PAGE]:
            stored = searcher.stored_fields(docnum)
            hits.append(Hit(stored["kind"], stored["ref"], stored.get("url", ""), stored.get("date")))
        return total, more, hits, page
