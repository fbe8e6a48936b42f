"""The Whoosh engine behind the search seam (engine.py): pooled searchers, posting cache, term statistics.

Why a pool rather than one shared searcher: without memory mapping Whoosh
reads files through shared file objects, which are not safe for two threads
at once. Each request borrows a searcher, replaces it if the index changed
(one directory listing tells), and gives it back, so a process keeps one
searcher per concurrent request and opens a new one only after the index
changed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator

from ldnsite.search.indexer import Indexer
from ldnsite.search.ranking import Plan, PostingCache, Ranked, Ranker
from ldnsite.search.repair import IndexUnavailable
from ldnsite.search.storage import IndexStore

POOL_SIZE = 8
PREFIX_SCAN = 3000


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


class WhooshSnapshot:
    """One borrowed searcher: what the shared query layer asks of an engine (engine.Snapshot)."""

    def __init__(self, engine: WhooshEngine, searcher) -> None:
        self.engine = engine
        self.searcher = searcher
        self.reader = searcher.reader()
        self.analyzer = searcher.schema["body"].analyzer
        self.title_analyzer = searcher.schema["title"].analyzer
        # The directory as well as its generation: a rebuilt index starts counting generations again.
        self.key = (engine.pool.generation_name, searcher.ixreader.generation())
        corrections = engine._corrections.setdefault(engine.pool.generation_name, {})
        if len(engine._corrections) > 2:
            engine._corrections = {engine.pool.generation_name: corrections}
        self.corrections = corrections
        self._ranker: Ranker | None = None

    def doc_frequency(self, fieldname: str, text: str) -> int:
        return self.reader.doc_frequency(fieldname, text)

    def suggest(self, fieldname: str, word: str, limit: int, maxdist: int, prefix: int) -> Iterable[str]:
        return self.searcher.suggest(fieldname, word, limit=limit, maxdist=maxdist, prefix=prefix)

    def prefix_terms(self, prefix: str, cap: int) -> list[str]:
        """The `cap` most frequent indexed terms starting with prefix (stems start as their words do)."""
        candidates: dict[str, int] = {}
        for fieldname in ("title", "body"):
            for n, term in enumerate(self.reader.expand_prefix(fieldname, prefix)):
                if n >= PREFIX_SCAN:
                    break
                text = term.decode("utf-8") if isinstance(term, bytes) else term
                candidates[text] = candidates.get(text, 0) + self.reader.doc_frequency(fieldname, text)
        return sorted(candidates, key=lambda t: (-candidates[t], t))[:cap]

    def rank(self, plan: Plan, pages: bool, by_date: bool, limit: int) -> Ranked:
        if self._ranker is None:
            self._ranker = Ranker(self.searcher, self.engine.postings)
        return self._ranker.rank(plan, pages=pages, by_date=by_date, limit=limit)

    def stored(self, docnum: int) -> dict:
        return self.searcher.stored_fields(int(docnum))


class WhooshEngine:
    """This node's Whoosh index (the default, embedded engine)."""

    name = "whoosh"

    def __init__(self, store: IndexStore, indexer: Indexer, cache_mb: int) -> None:
        self.pool = SearcherPool(store, indexer)
        self.postings = PostingCache(cache_mb * 1024 * 1024)
        self._corrections: dict[str, dict] = {}  # per index generation: word -> suggestion

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[WhooshSnapshot]:
        with self.pool.searcher() as searcher:
            yield WhooshSnapshot(self, searcher)

    def problems(self) -> list[str]:
        """Why the index cannot be read, if it cannot (asked after a search failed)."""
        gen = self.pool.store.live()
        return ["there is no index"] if gen is None else gen.verify()[1]

    def close(self) -> None:
        self.pool.close()
