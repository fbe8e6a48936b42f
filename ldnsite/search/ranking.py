"""Full-corpus BM25F ranking over Whoosh's posting lists, with exact counts.

Why not Whoosh's own scorer: it scores matches one at a time in Python, a
few microseconds each, so ranking every match of a common word in a large
forum takes a second; stopping early instead (the old time budget) meant
only the newest posts could rank. Here each posting list a query needs is
read from Whoosh's files once, block by block, into arrays (cached per
segment: Whoosh segments never change, so a cached list is never stale),
and every matching document is scored at once with numpy. Every match
counts and ranks, old or new, and the count is exact.

Why two passes: the information pages are a few long documents and the
forum many short ones. Scored together, BM25F length normalisation sinks a
long page below a 40-word post. Each pass has its own statistics (document
count, document frequencies, average field lengths) and field weights, and
the service puts the best pages first (service.py).

What a query is here: a list of units, each matched by any of its
alternatives (a term, several terms in one document, or a phrase). Documents
that match every unit rank first; then documents matching at least half of
the units, by how many they match. Excluded alternatives remove documents.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.util.numeric import byte_to_length

from ldnsite.search.schema import TEXT_FIELDS

K1 = 1.2
# Per pass: field weight and length normalisation. Page keyword lists are long by design, so barely normalised.
PAGE_FIELDS = {"title": (8.0, 0.4), "keywords": (6.0, 0.2), "body": (1.0, 0.3)}
FORUM_FIELDS = {"title": (5.0, 0.5), "keywords": (1.0, 0.5), "body": (1.0, 0.75)}
_LENGTH_TABLE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


@dataclass(frozen=True)
class Alt:
    """One way to match a unit: "term" (one token), "all" (tokens anywhere in one field each) or "phrase"."""

    how: str
    tokens: tuple[str, ...]
    boost: float = 1.0  # below 1 for a misspelling searched beside its correction: its rarity must not win


@dataclass
class Unit:
    alts: list[Alt]


@dataclass
class Plan:
    units: list[Unit]
    excluded: list[Alt] = field(default_factory=list)


class Segment:
    """Per-segment arrays: which documents are live, which are pages, their field lengths and dates."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.n = reader.doc_count_all()
        self.is_page = np.zeros(self.n, dtype=bool)
        ids, _ = read_postings(reader, "kind", "page")
        self.is_page[ids] = True
        self.lengths = {f: self._lengths(f) for f in TEXT_FIELDS}
        self.dates = self._dates()
        self._masks: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def masks(self, reader) -> tuple[np.ndarray, np.ndarray]:
        """Live pages and live forum documents as this reader sees them.

        Deletions are the only thing that changes in a segment, so only these
        masks are recomputed, per deletion count (searchers of two index
        versions may run at once).
        """
        count = reader.segment().deleted_count()
        with self._lock:
            found = self._masks.get(count)
        if found is None:
            live = np.ones(self.n, dtype=bool)
            if count:
                live[np.fromiter(reader.segment().deleted_docs(), dtype=np.int64)] = False
            found = (self.is_page & live, ~self.is_page & live)
            with self._lock:
                self._masks[count] = found
                while len(self._masks) > 4:
                    self._masks.popitem(last=False)
        return found

    def _lengths(self, fieldname: str) -> np.ndarray:
        column = reader_column(self.reader, f"_{fieldname}_len")
        if column is None:
            return np.zeros(self.n, dtype=np.float32)
        return _LENGTH_TABLE[column]

    def _dates(self) -> np.ndarray:
        if not self.reader.has_column("date"):
            return np.zeros(self.n, dtype=np.int64)
        col = self.reader.column_reader("date", translate=False)
        return np.fromiter((v or 0 for v in col), dtype=np.int64, count=self.n)


def reader_column(reader, name: str) -> np.ndarray | None:
    """A one-byte-per-document column (field lengths) as an array, read in one go."""
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is None or not perdoc.has_column(name):
        return None
    colfile, offset, length = perdoc._get_column_file(name)
    try:
        if length == perdoc._doccount:
            return np.frombuffer(colfile.get(offset, length), dtype=np.uint8).copy()
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN

        col = LENGTHS_COLUMN.reader(colfile, offset, length, perdoc._doccount)
        return np.fromiter((col[i] for i in range(perdoc._doccount)), dtype=np.uint8, count=perdoc._doccount)
    finally:
        colfile.close()


def read_postings(reader, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Every posting of a term in one segment (deleted documents included): ids and frequencies."""
    try:
        tbytes = reader._text_to_bytes(fieldname, text)
        if (fieldname, tbytes) not in reader._terms:
            return _EMPTY_IDS, _EMPTY_WEIGHTS
        m = reader._terms.matcher(fieldname, tbytes, reader.schema[fieldname].format)
    except (KeyError, ValueError):
        return _EMPTY_IDS, _EMPTY_WEIGHTS
    if isinstance(m, W3LeafMatcher) and not m._byteids:
        id_parts, weight_parts = [], []
        while True:
            if m._data is None:
                m._read_data()
            data = m._data
            id_parts.append(np.cumsum(np.asarray(data[0], dtype=np.int64)))
            w = data[1]
            if w is None or isinstance(w, float):
                weight_parts.append(np.full(m._blocklength, 1.0 if w is None else w, dtype=np.float32))
            else:
                weight_parts.append(
                    np.frombuffer(w, dtype=np.float32) if hasattr(w, "tobytes") and w.typecode == "f" else np.asarray(w, dtype=np.float32)
                )
            if m._lastblock:
                break
            m._goto(m._nextoffset)
        return np.concatenate(id_parts), np.concatenate(weight_parts)
    ids, weights = [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32)


_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)


def _positions(reader, fieldname: str, text: str, candidates: np.ndarray) -> dict[int, set[int]]:
    """Word positions of a term in the candidate documents, decoding only blocks that hold a candidate."""
    fmt = reader.schema[fieldname].format
    tbytes = reader._text_to_bytes(fieldname, text)
    if (fieldname, tbytes) not in reader._terms:
        return {}
    m = reader._terms.matcher(fieldname, tbytes, fmt)
    out: dict[int, set[int]] = {}
    if isinstance(m, W3LeafMatcher) and not m._byteids:
        low = 0
        while True:
            start = np.searchsorted(candidates, low)
            stop = np.searchsorted(candidates, m._maxid, side="right")
            if stop > start:
                if m._data is None:
                    m._read_data()
                ids = np.cumsum(np.asarray(m._data[0], dtype=np.int64))
                values = m._data[2]
                for doc in candidates[start:stop]:
                    at = int(np.searchsorted(ids, doc))
                    if at < len(ids) and ids[at] == doc:
                        out[int(doc)] = set(fmt.decode_positions(values[at]))
            low = m._maxid + 1
            if m._lastblock or stop >= len(candidates):
                break
            m._goto(m._nextoffset)
        return out
    wanted = set(candidates.tolist())
    while m.is_active():
        if m.id() in wanted:
            out[m.id()] = set(fmt.decode_positions(m.value()))
        m.next()
    return out


def _verify_phrase(reader, fieldname: str, tokens: tuple[str, ...], candidates: np.ndarray) -> np.ndarray:
    lists = [_positions(reader, fieldname, t, candidates) for t in tokens]
    found = []
    for doc in candidates.tolist():
        firsts = lists[0].get(doc, ())
        if any(all(p + i in lists[i].get(doc, ()) for i in range(1, len(tokens))) for p in firsts):
            found.append(doc)
    return np.asarray(found, dtype=np.int64)


class PostingCache:
    """Posting arrays and segment arrays, keyed by segment: valid for as long as the segment exists."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lists: OrderedDict = OrderedDict()
        self._bytes = 0
        self._segments: dict = {}
        self._lock = threading.Lock()

    def segment(self, reader) -> Segment:
        key = reader.segment().segment_id()
        with self._lock:
            seg = self._segments.get(key)
        if seg is None:
            seg = Segment(reader)
            with self._lock:
                if len(self._segments) > 64:
                    self._segments.clear()
                self._segments[key] = seg
        return seg

    def postings(self, reader, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        key = (reader.segment().segment_id(), fieldname, text)
        with self._lock:
            hit = self._lists.get(key)
            if hit is not None:
                self._lists.move_to_end(key)
                return hit
        value = read_postings(reader, fieldname, text)
        size = value[0].nbytes + value[1].nbytes
        with self._lock:
            if key not in self._lists:
                self._lists[key] = value
                self._bytes += size
                while self._bytes > self.max_bytes and len(self._lists) > 1:
                    _, (i, w) = self._lists.popitem(last=False)
                    self._bytes -= i.nbytes + w.nbytes
        return value

    def derived(self, reader, key: tuple, compute) -> np.ndarray:
        """A value computed from one segment's postings (a phrase's documents), cached like a posting list."""
        full = (reader.segment().segment_id(), *key)
        with self._lock:
            hit = self._lists.get(full)
        if hit is not None:
            return hit[0]
        value = compute()
        with self._lock:
            self._lists[full] = (value, _EMPTY_WEIGHTS)
            self._bytes += value.nbytes
        return value

    def clear(self) -> None:
        with self._lock:
            self._lists.clear()
            self._segments.clear()
            self._bytes = 0

    @property
    def size(self) -> int:
        return self._bytes


@dataclass
class Leaf:
    """One segment as one searcher sees it: its cached arrays, its reader and its live masks."""

    arrays: Segment
    offset: int
    reader: object
    page: np.ndarray
    forum: np.ndarray

    @property
    def n(self) -> int:
        return self.arrays.n

    @property
    def lengths(self) -> dict:
        return self.arrays.lengths

    @property
    def dates(self) -> np.ndarray:
        return self.arrays.dates


@dataclass
class Ranked:
    """One pass's matches, best first: global docnums, tiers (0: every unit) and scores; exact counts."""

    docnums: np.ndarray
    scores: np.ndarray
    dates: np.ndarray
    full: int
    partial: int

    @property
    def total(self) -> int:
        return self.full + self.partial


class Ranker:
    def __init__(self, searcher, cache: PostingCache) -> None:
        self.searcher = searcher
        self.cache = cache
        self.leaves = []
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            seg = self.cache.segment(reader)
            self.leaves.append(Leaf(seg, offset, reader, *seg.masks(reader)))

    def _field_match(self, seg: Leaf, alt: Alt, fieldname: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Document ids in this segment matching alt in one field, with summed term frequencies."""
        tokens = alt.tokens
        lists = [self.cache.postings(seg.reader, fieldname, t) for t in tokens]
        if any(len(ids) == 0 for ids, _ in lists):
            return None
        if len(lists) == 1:
            return lists[0]
        ids = lists[0][0]
        for other, _ in lists[1:]:
            ids = np.intersect1d(ids, other, assume_unique=True)
        if alt.how == "phrase" and len(ids):
            ids = self._phrase_ids(seg, fieldname, tokens, ids)
        if not len(ids):
            return None
        tf = np.zeros(len(ids), dtype=np.float32)
        for lid, lw in lists:
            tf += lw[np.searchsorted(lid, ids)]
        return ids, tf / len(lists)

    def _phrase_ids(self, seg: Leaf, fieldname: str, tokens: tuple[str, ...], candidates: np.ndarray) -> np.ndarray:
        """Candidates (documents with every token) where the tokens stand in order, next to each other.

        Positions are read only from the posting blocks that hold a candidate;
        the answer is cached with the segment's posting lists.
        """
        key = (fieldname, "phrase", tokens)
        return self.cache.derived(seg.reader, key, lambda: _verify_phrase(seg.reader, fieldname, tokens, candidates))

    def rank(self, plan: Plan, pages: bool, by_date: bool, limit: int) -> Ranked:
        weights = PAGE_FIELDS if pages else FORUM_FIELDS
        units = plan.units
        need = len(units) if len(units) < 2 else max(1, math.ceil(len(units) / 2))
        # Pass 1: posting lists per segment, and document frequencies and lengths over the whole pass.
        matched: list[dict] = []
        domain_docs = 0
        length_sums = dict.fromkeys(TEXT_FIELDS, 0.0)
        length_docs = dict.fromkeys(TEXT_FIELDS, 0)
        alt_df: dict[Alt, int] = {}
        for seg in self.leaves:
            domain = seg.page if pages else seg.forum
            domain_docs += int(domain.sum())
            for f in TEXT_FIELDS:
                lengths = seg.lengths[f][domain]
                length_sums[f] += float(lengths.sum())
                length_docs[f] += int(np.count_nonzero(lengths))
            per_alt = {}
            for unit in units:
                for alt in unit.alts:
                    if alt in per_alt:
                        continue
                    fields = {f: self._field_match(seg, alt, f) for f in TEXT_FIELDS}
                    fields = {f: v for f, v in fields.items() if v is not None}
                    per_alt[alt] = fields
                    if fields:
                        hit = np.zeros(seg.n, dtype=bool)
                        for ids, _ in fields.values():
                            hit[ids] = True
                        alt_df[alt] = alt_df.get(alt, 0) + int((hit & domain).sum())
            matched.append(per_alt)
        if domain_docs == 0:
            return _empty()
        # The average over documents that have the field: replies have no title, and must not make titles "long".
        avg = {f: max(length_sums[f] / max(length_docs[f], 1), 1.0) for f in TEXT_FIELDS}
        idf = {alt: math.log(1 + (domain_docs - df + 0.5) / (df + 0.5)) for alt, df in alt_df.items()}
        # Pass 2: score every document of every segment at once.
        out_docs, out_scores, out_dates, out_tiers = [], [], [], []
        for seg, per_alt in zip(self.leaves, matched, strict=True):
            offset = seg.offset
            domain = (seg.page if pages else seg.forum).copy()
            for alt in plan.excluded:
                for ids, _ in self._alt_fields(seg, alt).values():
                    domain[ids] = False
            total = np.zeros(seg.n, dtype=np.float32)
            count = np.zeros(seg.n, dtype=np.int16)
            for unit in units:
                best = np.zeros(seg.n, dtype=np.float32)
                hit = np.zeros(seg.n, dtype=bool)
                for alt in unit.alts:
                    fields = per_alt.get(alt) or {}
                    if not fields:
                        continue
                    tfw = np.zeros(seg.n, dtype=np.float32)
                    for f, (ids, tf) in fields.items():
                        w, b = weights[f]
                        norm = 1 - b + b * seg.lengths[f][ids] / avg[f]
                        tfw[ids] += w * tf / norm
                        hit[ids] = True
                    score = alt.boost * idf.get(alt, 0.0) * tfw * (K1 + 1) / (K1 + tfw)
                    np.maximum(best, score, out=best)
                total += best
                count += hit
            candidates = np.flatnonzero(domain & (count >= need))
            if not len(candidates):
                continue
            out_docs.append(candidates + offset)
            out_scores.append(total[candidates])
            out_dates.append(seg.dates[candidates])
            out_tiers.append((len(units) - count[candidates]).astype(np.int16))
        if not out_docs:
            return _empty()
        docs = np.concatenate(out_docs)
        scores = np.concatenate(out_scores)
        dates = np.concatenate(out_dates)
        tiers = np.concatenate(out_tiers)
        full = int((tiers == 0).sum())
        order = top(docs, tiers, scores, dates, limit, by_date)
        return Ranked(docs[order], scores[order], dates[order], full, len(docs) - full)

    def _alt_fields(self, seg: Leaf, alt: Alt) -> dict:
        found = {f: self._field_match(seg, alt, f) for f in TEXT_FIELDS}
        return {f: v for f, v in found.items() if v is not None}


def top(docs: np.ndarray, tiers: np.ndarray, scores: np.ndarray, dates: np.ndarray, limit: int, by_date: bool) -> np.ndarray:
    """Indexes of the best `limit` matches, in order; ties broken by date (newest first), then document number.

    Scores are rounded to 6 significant digits before comparing, so float
    noise between segments can never reorder equal documents.
    """
    primary = dates.astype(np.float64) if by_date else np.round(scores.astype(np.float64), 5)
    key = tiers.astype(np.float64) * -1e30 + primary  # lower tier first, then the higher key
    if len(key) > limit:
        threshold = np.partition(key, len(key) - limit)[len(key) - limit]
        chosen = np.flatnonzero(key >= threshold)
    else:
        chosen = np.arange(len(key))
    order = np.lexsort((docs[chosen], -dates[chosen], -primary[chosen], tiers[chosen]))
    return chosen[order][:limit]


def _empty() -> Ranked:
    return Ranked(_EMPTY_IDS, _EMPTY_WEIGHTS, _EMPTY_IDS, 0, 0)
