"""The PostgreSQL engine behind the search seam (engine.py): no index on any node, documents in the database.

Why: with several nodes on one PostgreSQL database, a Whoosh index per node
means every node indexes everything and a new node must rebuild before it
can search. Here the documents live in `search_document` (pg_tables.py),
written in the same transaction as the post, topic or page change, so a
change is searchable on every node the moment it commits, and a node keeps
no search state at all.

What is shared with the Whoosh engine, so it is not written twice: the
analyzer (schema.py) turns title, keywords and body into the tokens whose
positions and field weights make each row's tsvector, and the query layer
(query.py) turns what a reader typed into the same plan of units and
alternatives. This module only translates a plan into tsqueries, ranks, and
answers the term statistics the query layer asks for.

Ranking: each unit scores its best alternative, boost x idf x ts_rank with
per-pass field weights (pages and forum have their own statistics, as in
ranking.py); a document's score is the sum over units. Documents matching
every unit come first, then those matching at least half, by how many. A
GIN index per pass chooses the rows; one aggregate over them gives the exact
counts and each alternative's document frequency, and a second ranks
(ORDER BY ... LIMIT, the idf values as constants) only the rows that can
reach the page: those of the highest match level that fills it, and among
them only rows short enough to beat the page's worst score (`_bounded`). One
word needs a single query (`_one_word`).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from ldnsite.db import make_engine, utcnow
from ldnsite.search.documents import forum_documents, page_document
from ldnsite.search.indexer import Changes, Indexer
from ldnsite.search.models import SearchOutbox
from ldnsite.search.query import stems
from ldnsite.search.ranking import Alt, Plan, Ranked
from ldnsite.search.repair import IndexUnavailable
from ldnsite.search.schema import plain_analyzer, stemming_analyzer
from ldnsite.search.synonyms import load as load_synonyms

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # bump when what goes into a row changes: `index ensure` then rebuilds
# ts_rank weights {D, C, B, A}: body, (unused), keywords, title, as ranking.py's field weights scaled to 1.
WEIGHTS = {True: "{0.125,0,0.75,1}", False: "{0.2,0,0.2,1}"}
# ts_rank's length normalisation: none for pages (a few long documents, as ranking.py barely normalises them);
# 1 + log(length) for the forum, so a long post does not win by repeating a word.
NORMALIZATION = {True: 0, False: 1}
# A reply has no title: one word scores at most the body and keywords weight there (WEIGHTS[False]).
POST_CEILING = 0.2
MAX_COMBINATIONS = 40  # "any k of n units" as one tsquery: above this many ways, rank every row matching half
BOUND_FROM = 200  # fewer matching rows than this: rank them all
# The guessed floor, as a share of what a row of length 1 could score: the 67 judged queries' tenth best
# scores 0.04-0.2 of it. Lower ranks more rows; higher misses more often (then a second pass finds the floor).
GUESS = 0.05
SEED_LENGTH = 40  # positions: the short rows that give the score the top rows must reach
STATS_SECONDS = 60.0
CORRECTIONS_SECONDS = 600.0
FIELD_GAP = 100  # positions between fields, so a phrase never runs from the title into the body
MAX_POSITION = 16383  # PostgreSQL's limit; later positions are clamped to it
MAX_POSITIONS = 250  # per lexeme (PostgreSQL keeps at most 256)
MAX_LEXEME_BYTES = 2000
BATCH = 1000
PREFIX_SCAN = 3000
# pg_advisory_lock keys: one rebuild at a time across all nodes, per schema. Advisory locks are
# database-wide, so the schema's name is the second key: two sites (or test runs) in different
# schemas of one database never wait for each other's rebuild.
REBUILD_LOCK = 15_150_001
PENDING = "search_pg_pending"
EXTENSIONS = ("unaccent", "pg_trgm")
FIELDS = (("title", "A"), ("keywords", "B"), ("body", "D"))
_PLAIN = plain_analyzer()


def quote(token: str) -> str:
    """A lexeme as tsvector and tsquery input read it: quoted, quotes doubled, backslashes escaped."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def vector(doc: dict, analyzer) -> str:
    """The tsvector of a document: our analyzer's tokens at their positions, weighted by field."""
    where: dict[str, list[str]] = {}
    base = 1
    for fieldname, weight in FIELDS:
        last = -1
        for t in analyzer(doc.get(fieldname) or "", positions=True, mode="index"):
            if len(t.text.encode()) > MAX_LEXEME_BYTES:
                continue
            spots = where.setdefault(t.text, [])
            if len(spots) < MAX_POSITIONS:
                spots.append(f"{min(base + t.pos, MAX_POSITION)}{weight}")
            last = max(last, t.pos)
        base += last + 1 + FIELD_GAP
    return " ".join(f"{quote(lexeme)}:{','.join(dict.fromkeys(spots))}" for lexeme, spots in where.items())


def spell_words(doc: dict) -> set[str]:
    return {t.text for t in _PLAIN(doc.get("spell") or "") if 0 < len(t.text) <= 100}


def row(doc: dict, analyzer) -> dict:
    kind = doc["kind"]
    topic = doc.get("topic")
    return {
        "key": doc["key"],
        "kind": kind,
        "ref": doc["ref"],
        "topic_id": int(topic) if topic else None,
        "date": doc.get("date"),
        "is_page": kind == "page",
        "vec": vector(doc, analyzer),
    }


UPSERT = text("""
INSERT INTO search_document (key, kind, ref, topic_id, date, is_page, vec, len, updated_at)
SELECT :key, :kind, :ref, :topic_id, :date, :is_page, v,
    (SELECT coalesce(sum(greatest(cardinality(positions), 1)), 0) FROM unnest(v)), now()
FROM CAST(:vec AS tsvector) v
ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, ref = excluded.ref, topic_id = excluded.topic_id,
    date = excluded.date, is_page = excluded.is_page, vec = excluded.vec, len = excluded.len,
    updated_at = now()
""")
NEW_WORD = text("INSERT INTO search_vocabulary (word, docs) VALUES (:word, 1) ON CONFLICT (word) DO NOTHING")


def write(conn, changes: Changes, analyzer) -> None:
    """Apply a batch of changes (one entry per document) with the caller's connection or session."""
    if changes.dropped_topics:
        conn.execute(text("DELETE FROM search_document WHERE topic_id = ANY(:ids)"), {"ids": sorted(changes.dropped_topics)})
    gone = sorted(k for k, d in changes.docs.items() if d is None)
    if gone:
        conn.execute(text("DELETE FROM search_document WHERE key = ANY(:keys)"), {"keys": gone})
    docs = [d for _k, d in sorted(changes.docs.items()) if d is not None]  # key order: no deadlocks between writers
    if docs:
        conn.execute(UPSERT, [row(d, analyzer) for d in docs])
    words = sorted(set().union(*(spell_words(d) for d in docs))) if docs else []
    if words:
        conn.execute(NEW_WORD, [{"word": w} for w in words])


class _Rules:
    """The indexer's rules for what a change means (a post, a topic and its replies), without its Whoosh writer."""

    _apply = Indexer._apply
    _apply_topic = Indexer._apply_topic
    expected_documents = Indexer.expected_documents

    def __init__(self, content) -> None:
        self.content = content


def _levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance, stopping early once every cell passes `limit`."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _prefix_range(prefix: str) -> tuple[str, str]:
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def alt_query(alt: Alt) -> str:
    tokens = [quote(t) for t in alt.tokens]
    if len(tokens) == 1:
        return tokens[0]
    return "(" + (" <-> " if alt.how == "phrase" else " & ").join(tokens) + ")"


def unit_query(alts: Iterable[Alt]) -> str:
    return "(" + " | ".join(alt_query(a) for a in alts) + ")"


class PgSnapshot:
    """One search's view: a connection, and what the shared query layer asks of an engine (engine.Snapshot)."""

    key = None  # no result cache: every search reads the database, so a change is visible at once

    def __init__(self, engine: PgEngine, conn: Connection) -> None:
        self.engine = engine
        self.conn = conn
        self.analyzer = engine.analyzer
        self.title_analyzer = engine.analyzer
        self.corrections = engine.corrections()
        self._stored: dict[int, dict] = {}

    # ---- term statistics for the query layer ------------------------------------------------

    def doc_frequency(self, fieldname: str, word: str) -> int:
        """Documents with the word (the vocabulary holds `spell` words only: pages, topic titles, opening posts)."""
        if fieldname != "spell":
            return 0
        return int(self.conn.execute(text("SELECT docs FROM search_vocabulary WHERE word = :w"), {"w": word}).scalar() or 0)

    def suggest(self, fieldname: str, word: str, limit: int, maxdist: int, prefix: int) -> list[str]:
        """Known words within maxdist edits sharing the first `prefix` letters: nearest first, then most frequent."""
        lo, hi = _prefix_range(word[:prefix] or word[:1])
        rows = self.conn.execute(
            text(
                "SELECT word, docs FROM search_vocabulary WHERE word >= :lo AND word < :hi AND docs > 0 "
                "AND length(word) BETWEEN :short AND :long"
            ),
            {"lo": lo, "hi": hi, "short": len(word) - maxdist, "long": len(word) + maxdist},
        ).all()
        scored = []
        for candidate, docs in rows:
            distance = _levenshtein(word, candidate, maxdist)
            if distance <= maxdist:
                scored.append((distance, -docs, candidate))
        return [c for _d, _n, c in sorted(scored)[:limit]]

    def prefix_terms(self, prefix: str, cap: int) -> list[str]:
        """The `cap` commonest stems of known words starting with prefix."""
        lo, hi = _prefix_range(prefix)
        rows = self.conn.execute(
            text("SELECT word, docs FROM search_vocabulary WHERE word >= :lo AND word < :hi ORDER BY docs DESC LIMIT :n"),
            {"lo": lo, "hi": hi, "n": PREFIX_SCAN},
        ).all()
        counts: dict[str, int] = {}
        for word, docs in rows:
            for stem in stems(word):
                if stem.startswith(prefix):
                    counts[stem] = counts.get(stem, 0) + docs
        return sorted(counts, key=lambda t: (-counts[t], t))[:cap]

    # ---- ranking ----------------------------------------------------------------------------

    def rank(self, plan: Plan, pages: bool, by_date: bool, limit: int) -> Ranked:
        """Exact counts and document frequencies, then the ranking of the rows that can reach the page.

        Why not one query with window functions: buffering every matching row
        for a window costs several times more than reading the rows twice
        through the GIN index (an aggregate, then ORDER BY ... LIMIT with the
        idf values written in as constants).
        """
        units = plan.units
        n = len(units)
        need = n if n < 2 else max(1, math.ceil(n / 2))
        alts = list(dict.fromkeys(a for unit in units for a in unit.alts))
        index = {alt: i for i, alt in enumerate(alts)}
        params: dict = {"w": WEIGHTS[pages], "limit": limit}
        for i, alt in enumerate(alts):
            params[f"a{i}"] = alt_query(alt)
        matches = {i: f"(vec @@ CAST(:a{i} AS tsquery))" for i in range(len(alts))}
        # One unit: every row the index selects matches it. Otherwise count the units each row matches.
        hits = " + ".join("(" + " OR ".join(matches[index[a]] for a in u.alts) + ")::int" for u in units) if n > 1 else "1"
        params["any"] = " | ".join(unit_query(u.alts) for u in units)
        # A literal predicate, as the partial index states it, so the planner may use that pass's index.
        where = f"{'is_page' if pages else 'NOT is_page'} AND vec @@ CAST(:any AS tsquery)"
        if plan.excluded:
            params["excluded"] = unit_query(plan.excluded)
            where += " AND NOT (vec @@ CAST(:excluded AS tsquery))"
        if not pages and not by_date and n == 1 and len(alts) == 1 and len(alts[0].tokens) == 1:
            found = self._one_word(where, params, alts[0], limit)
            if found is not None:
                return found
        if n == 1 and len(alts) == 1:  # the count is the document frequency: no row needs evaluating
            total = full = int(self.conn.execute(text(f"SELECT count(*) FROM search_document WHERE {where}"), params).scalar() or 0)
            dfs, at_least = [total], {}
        else:
            # Each alternative is tested once per row (OFFSET 0 keeps the planner from repeating the tests).
            tested = ", ".join(f"{matches[i]} AS m{i}" for i in range(len(alts)))
            units_hit = " + ".join("(" + " OR ".join(f"m{index[a]}" for a in u.alts) + ")::int" for u in units)
            frequencies = ", ".join(f"count(*) FILTER (WHERE m{i})" for i in range(len(alts)))
            between = range(n - 1, need, -1)  # rows matching at least k units, for the levels between
            levels = "".join(f", count(*) FILTER (WHERE hits >= {k})" for k in between)
            counted = self.conn.execute(
                text(
                    f"SELECT count(*) FILTER (WHERE hits >= {need}), count(*) FILTER (WHERE hits = {n}){levels}, "
                    f"{frequencies} FROM (SELECT *, {units_hit if n > 1 else '1'} AS hits FROM (SELECT {tested} "
                    f"FROM search_document WHERE {where} OFFSET 0) t) m"
                ),
                params,
            ).one()
            total, full = int(counted[0]), int(counted[1])
            at_least = dict(zip(between, (int(c) for c in counted[2 : 2 + len(between)]), strict=True))
            dfs = [int(d) for d in counted[2 + len(between) :]]
        if total == 0:
            return _empty()
        domain = max(self.engine.doc_count(self.conn, pages), max(dfs))  # the cached count may lag a new post
        scores = []
        bests: list[dict[str, float]] = []  # per unit and kind: the most a row of length 1 could score (_bounded)
        for unit in units:
            parts = []
            best = {"topic": 0.0, "post": 0.0}
            for alt in unit.alts:
                i = index[alt]
                weight = alt.boost * math.log(1 + (domain - dfs[i] + 0.5) / (dfs[i] + 0.5))
                if dfs[i] and weight > 0:
                    best["topic"] = max(best["topic"], weight)
                    best["post"] = max(best["post"], weight * (POST_CEILING if len(alt.tokens) == 1 else 1.0))
                    rank = f"{weight:.6f} * ts_rank(CAST(:w AS real[]), vec, CAST(:a{i} AS tsquery), {NORMALIZATION[pages]})"
                    # ts_rank is 0 for a missing word, but not for a phrase whose words are apart: check the match.
                    parts.append(f"CASE WHEN {matches[i]} THEN {rank} ELSE 0 END" if len(alt.tokens) > 1 else rank)
            scores.append(("GREATEST(" + ", ".join(parts) + ")") if parts else "0")
            bests.append(best)
        order = "date DESC NULLS LAST, id" if by_date else "score DESC, date DESC NULLS LAST, id"
        params["every"] = " & ".join(unit_query(u.alts) for u in units)
        bounded = n == 1  # every candidate matches the same units, or those matching more are all shown
        matched = n  # how many units a row that may be skipped matches
        if n > 1 and full >= limit:
            # Full matches rank first, and there are enough of them: the index's intersection of every unit is
            # the exact candidate set, usually far smaller than the rows matching any unit.
            where = where.replace("CAST(:any AS tsquery)", "CAST(:every AS tsquery)")
            bounded = True
        elif n > 1:
            # Rows are ordered by how many units they match first: when the rows matching at least k units fill
            # the page, they are the candidates, and the index finds them as "any k of the units".
            # Otherwise the rows matching at least half of them (not every row matching any unit, as `any` reads).
            level = next((k for k, count in at_least.items() if count >= limit), need)
            if 1 < level < n and math.comb(n, level) <= MAX_COMBINATIONS:
                params["level"] = _any_of(units, level)
                where = where.replace("CAST(:any AS tsquery)", "CAST(:level AS tsquery)")
            elif level > 1:
                level = 0  # too many ways to choose: rank every row matching half of the units
            # The rows matching more than `level` units are fewer than the page: all shown, above the rest.
            # Not for one unit of several: the ceiling (every unit's best) is far above what one unit scores.
            if level > 1 and (level + 1 == n or math.comb(n, level + 1) <= MAX_COMBINATIONS):
                params["upper"] = params["every"] if level + 1 == n else _any_of(units, level + 1)
                bounded, matched = True, level
        # A row matching `matched` units scores at most the sum of the `matched` largest units' bests.
        ceilings = {kind: sum(sorted((b[kind] for b in bests), reverse=True)[:matched]) for kind in ("topic", "post")}
        score = " + ".join(scores)

        def ranked(condition: str) -> list:
            return self.conn.execute(
                text(
                    f"SELECT id, kind, ref, date, hits, score FROM (SELECT id, kind, ref, date, {hits} AS hits, "
                    f"({score})::float8 AS score FROM search_document WHERE {where}{condition}) m WHERE hits >= {need} "
                    f"ORDER BY hits DESC, {order} LIMIT :limit"
                ),
                params,
            ).all()

        if not pages and not by_date and bounded and total > BOUND_FROM:
            rows = self._bounded(ranked, ceilings, params, limit)
        else:
            rows = ranked("")
        for r in rows:
            self._stored[r.id] = {"kind": r.kind, "ref": r.ref, "date": r.date}
        return Ranked(
            np.array([r.id for r in rows], dtype=np.int64),
            np.array([r.score for r in rows], dtype=np.float32),
            np.array([_micros(r.date) for r in rows], dtype=np.int64),
            full,
            total - full,
        )

    def _one_word(self, where: str, params: dict, alt: Alt, limit: int) -> Ranked | None:
        """One word in the forum: the count and the top rows in one pass, ranking only rows short enough to win.

        With one alternative the idf is a common factor, so the order is
        ts_rank's alone, and the bound of _bounded applies with a guessed
        floor: a row is ranked only if it could reach GUESS. When at least
        `limit` ranked rows reach it, no unranked row can beat them and the
        answer is exact; otherwise (a rarer word) None, and rank() reads the
        rows again with the floor they give.
        """
        params = {**params, "topic_len": _longest(1.0, GUESS), "post_len": _longest(POST_CEILING, GUESS)}
        rank = f"ts_rank(CAST(:w AS real[]), vec, CAST(:a0 AS tsquery), {NORMALIZATION[False]})"
        order = "r DESC, date DESC NULLS LAST, id"
        found = self.conn.execute(
            text(
                f"SELECT count(*), (array_agg(id ORDER BY {order}) FILTER (WHERE r IS NOT NULL))[1:{int(limit)}], "
                f"(array_agg(r ORDER BY {order}) FILTER (WHERE r IS NOT NULL))[1:{int(limit)}] FROM (SELECT id, date, "
                f"CASE WHEN len <= :topic_len AND (kind = 'topic' OR len <= :post_len) THEN {rank} END AS r "
                f"FROM search_document WHERE {where}) m"
            ),
            params,
        ).one()
        total, ids, ranks = int(found[0]), found[1] or [], found[2] or []
        if total == 0:
            return _empty()
        if len(ids) < limit or ranks[-1] < GUESS * (1 + 1e-6):  # float4 ranks: a margin for rounding
            return None
        domain = max(self.engine.doc_count(self.conn, False), total)
        weight = float(f"{alt.boost * math.log(1 + (domain - total + 0.5) / (total + 0.5)):.6f}")
        if weight <= 0:
            return None
        rows = {
            r.id: r for r in self.conn.execute(text("SELECT id, kind, ref, date FROM search_document WHERE id = ANY(:ids)"), {"ids": ids})
        }
        for r in rows.values():
            self._stored[r.id] = {"kind": r.kind, "ref": r.ref, "date": r.date}
        return Ranked(
            np.array(ids, dtype=np.int64),
            np.array([weight * r for r in ranks], dtype=np.float32),
            np.array([_micros(rows[i].date) for i in ids], dtype=np.int64),
            total,
            0,
        )

    @staticmethod
    def _bounded(ranked, ceilings: dict[str, float], params: dict, limit: int) -> list:
        """The forum's top rows, ranking only the rows that can reach them (the candidates match the same units).

        Why it is exact: ts_rank with length normalisation 1 is at most the
        first position's weight over log2(length + 1) per alternative (the
        positions of a vector are in field order, title first, so the first
        position carries the largest weight; calc_rank_or divides by the sum
        of 1/i^2), and at most 1 over log2(length + 1) for several words
        (calc_rank_and). A reply has no title, so a single word scores at most
        the body weight there. So a row longer than 2^(ceiling / s) - 1
        scores below s. First s is a guess (GUESS of the ceiling): if `limit`
        ranked rows reach it, no skipped row can beat them. If not, the short
        rows give s (the limit-th best among them) and only rows short enough
        to reach it are ranked, which include those short rows. Rows under
        `upper` (matching more units than the page's last row) always rank.
        """
        condition = " AND len <= :topic_len AND (kind = 'topic' OR len <= :post_len)"
        short = f" AND len <= {SEED_LENGTH}"
        if "upper" in params:  # rows matching more units than the last row shown: always candidates
            condition = f" AND ((len <= :topic_len AND (kind = 'topic' OR len <= :post_len)) OR {UPPER})"
            short = f" AND (len <= {SEED_LENGTH} OR {UPPER})"
        guess = GUESS * ceilings["topic"]
        params["topic_len"], params["post_len"] = _longest(ceilings["topic"], guess), _longest(ceilings["post"], guess)
        rows = ranked(condition)
        if len(rows) >= limit and rows[-1].score >= guess * (1 + 1e-6):  # float4 ranks: a margin for rounding
            return rows
        seed = ranked(short)
        if len(seed) < limit or seed[-1].score <= 0:
            return ranked("")
        floor = seed[-1].score * (1 - 1e-6)

        params["topic_len"], params["post_len"] = _longest(ceilings["topic"], floor), _longest(ceilings["post"], floor)
        return ranked(condition)

    def stored(self, docnum: int) -> dict:
        return self._stored[int(docnum)]


UPPER = "vec @@ CAST(:upper AS tsquery)"


def _any_of(units: list, k: int) -> str:
    """A tsquery matching the rows that match at least k of the units."""
    return " | ".join(
        "(" + " & ".join(unit_query(units[j].alts) for j in combo) + ")" for combo in itertools.combinations(range(len(units)), k)
    )


def _longest(ceiling: float, floor: float) -> int:
    """The longest row that could score `floor` when a row of length 1 scores at most `ceiling` (log2 normalisation)."""
    return int(min(2.0 ** min(ceiling / floor, 31.0), 2**31 - 1))


def _micros(value: datetime | None) -> int:
    return int(value.timestamp() * 1_000_000) if value is not None else 0


def _empty() -> Ranked:
    none = np.zeros(0, dtype=np.int64)
    return Ranked(none, np.zeros(0, dtype=np.float32), none, 0, 0)


class PgEngine:
    """Searches `search_document` on the primary, or on SEARCH_DATABASE_URL (a read replica) when set."""

    name = "postgres"

    def __init__(self, app: Flask, analyzer) -> None:
        replica = app.config["SEARCH_DATABASE_URL"]
        self._own = bool(replica)  # reads only; writes always go to the primary (the app's session)
        self.db: Engine = make_engine(replica, **app.config["DATABASE_ENGINE_OPTIONS"]) if replica else app.extensions["db_engine"]
        self.analyzer = analyzer
        self._stats: dict = {}  # (pass, query) -> (frequency, when)
        self._corrections: dict = {}
        self._corrections_at = time.monotonic()
        self._built = False

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[PgSnapshot]:
        with self.db.connect() as conn:
            if not self._built:
                problems = self._problems(conn)
                if problems:
                    raise IndexUnavailable(problems[0])
                self._built = True
            yield PgSnapshot(self, conn)

    def corrections(self) -> dict:
        """Spelling answers, kept for CORRECTIONS_SECONDS (the vocabulary changes slowly)."""
        if time.monotonic() - self._corrections_at > CORRECTIONS_SECONDS:
            self._corrections, self._corrections_at = {}, time.monotonic()
        return self._corrections

    def doc_count(self, conn: Connection, pages: bool) -> int:
        """Documents in a pass, for idf: kept STATS_SECONDS (a new post is counted by the rank query itself)."""
        key = ("docs", pages)
        found = self._stats.get(key)
        if found is None or time.monotonic() - found[1] > STATS_SECONDS:
            found = (
                int(conn.execute(text("SELECT count(*) FROM search_document WHERE is_page = :p"), {"p": pages}).scalar() or 0),
                time.monotonic(),
            )
            self._stats[key] = found
        return found[0]

    def clear_caches(self) -> None:
        self._stats.clear()
        self._corrections.clear()

    def _problems(self, conn: Connection) -> list[str]:
        try:
            with conn.begin_nested():
                built = conn.execute(text("SELECT value FROM search_state WHERE key = 'built_at'")).scalar()
        except ProgrammingError:
            return ["the search tables are missing: run `flask --app app db upgrade`"]
        return [] if built else ["search has not been built yet: run `flask --app app index ensure`"]

    def problems(self) -> list[str]:
        with self.db.connect() as conn:
            return self._problems(conn)

    def close(self) -> None:
        if self._own:
            self.db.dispose()


class PgIndexer:
    """`flask index ...` and the write side for the PostgreSQL engine: rebuild, ensure, status, page reloads."""

    engine_name = "postgres"

    def __init__(self, app: Flask, engine: PgEngine, analyzer, synonyms_hash: str) -> None:
        self.app = app
        self.engine = engine
        self.analyzer = analyzer
        self.synonyms_hash = synonyms_hash
        self.content = app.extensions["content"]
        self.content_dir = Path(app.config["CONTENT_DIR"])
        self.sessionmaker = app.extensions["db_sessionmaker"]
        self.retention = float(app.config["SEARCH_OUTBOX_RETENTION_SECONDS"])
        self.grace = float(app.config["SEARCH_OUTBOX_GRACE_SECONDS"])
        self.rules = _Rules(self.content)

    # ---- the transaction hook -----------------------------------------------------------------

    def listen(self) -> None:
        """Write search rows inside the transaction that changes a post, topic or page.

        Why before_commit: the documents are re-read from the session (so they
        show the transaction's own changes) and written with it, so they
        commit or roll back together with the change; no process can die in
        between, and every node sees the change at once.
        """
        from sqlalchemy import event

        maker = self.sessionmaker

        def before_flush(session: Session, _ctx, _instances) -> None:
            for obj in session.new:
                if isinstance(obj, SearchOutbox):
                    session.info.setdefault(PENDING, []).append((obj.doc_kind, obj.doc_id))

        def before_commit(session: Session) -> None:
            if session.in_nested_transaction():
                return
            session.flush()
            pending = session.info.pop(PENDING, None)
            if not pending:
                return
            try:
                with session.begin_nested():
                    self.apply(session, pending)
            except ProgrammingError:  # no search tables (migration 0005 not run): keep the post, say so
                log.error(
                    "search: search_document is missing, the change is saved but not searchable: "
                    "run `flask --app app db upgrade` and `flask --app app index ensure`"
                )

        def forget(session: Session, previous) -> None:
            if previous.parent is None and not previous.nested:  # the whole transaction, not a savepoint
                session.info.pop(PENDING, None)

        event.listen(maker, "before_flush", before_flush)
        event.listen(maker, "before_commit", before_commit)
        event.listen(maker, "after_soft_rollback", forget)

    def apply(self, session: Session, refs: Iterable[tuple[str, str]]) -> None:
        changes = Changes()
        for kind, ref in dict.fromkeys(refs):
            self.rules._apply(changes, session, kind, ref)
        write(session, changes, self.analyzer)

    # ---- what a search or `index sync` may ask -----------------------------------------------

    def maybe_sync(self) -> None:
        """Nothing to catch up: rows are written in the changing transaction."""

    def refresh(self, refs: list[tuple[str, str]]) -> None:
        """Re-read these documents now (a search met rows hidden since they were written)."""
        with self.sessionmaker() as session:
            self.apply(session, refs)
            session.commit()

    def sync(self, pages: bool = False, build: bool = True) -> int:
        if pages:
            self.reindex_pages()
        self.prune_outbox()
        return 0

    def prune_outbox(self) -> int:
        """Outbox rows are not needed by this engine once old: the same retention as the Whoosh nodes use."""
        cutoff = utcnow() - timedelta(seconds=self.retention)
        with self.sessionmaker() as session:
            result = session.execute(text("DELETE FROM search_outbox WHERE created_at < :c"), {"c": cutoff})
            session.commit()
            return result.rowcount or 0

    # ---- state ---------------------------------------------------------------------------------

    def _state(self, conn) -> dict[str, str]:
        return dict(conn.execute(text("SELECT key, value FROM search_state")).all())

    def _set_state(self, conn, **values) -> None:
        conn.execute(
            text("INSERT INTO search_state (key, value) VALUES (:k, :v) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
            [{"k": k, "v": str(v)} for k, v in values.items()],
        )

    def content_signature(self) -> str:
        return Indexer.content_signature(self)

    def reindex_pages(self) -> int:
        signature = self.content_signature()
        self.content.refresh(force=True)
        with self.sessionmaker() as session:
            changes = Changes()
            for key in session.execute(text("SELECT key FROM search_document WHERE is_page")).scalars():
                changes.put(key, None)
            for page in self.content.all():
                changes.put(f"page:{page.slug}", page_document(self.content, page))
            write(session, changes, self.analyzer)
            self._set_state(session, content_signature=signature)
            session.commit()
        self.engine.clear_caches()
        return len(list(self.content.all()))

    # ---- full builds ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _rebuild_lock(self, wait: bool) -> Iterator[bool]:
        with self.app.extensions["db_engine"].connect() as conn:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k, hashtext(current_schema()))"), {"k": REBUILD_LOCK})
                held = True
            else:
                held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))"), {"k": REBUILD_LOCK}).scalar())
            conn.commit()
            try:
                yield held
            finally:
                if held:
                    conn.execute(text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"), {"k": REBUILD_LOCK})
                    conn.commit()

    def rebuild(self, wait: bool = True) -> dict | None:
        """Write every document again in batches, then drop rows no longer backed by a page or a post.

        Searches keep working throughout (they see the old rows until each
        batch commits), and writers are never blocked for the whole build:
        each batch is its own transaction. Changes committed meanwhile are
        applied again at the end from the outbox, so none is lost.
        """
        with self._rebuild_lock(wait) as held:
            if not held:
                return None
            started = time.monotonic()
            signature = self.content_signature()
            self.content.refresh(force=True)
            with self.sessionmaker() as session:
                since = session.execute(text("SELECT now()::timestamp")).scalar()
            count = 0
            words: dict[str, int] = {}
            with self.sessionmaker() as reader:
                docs = [page_document(self.content, p) for p in self.content.all()]
                batch: list[dict] = []
                for doc in [*docs, *forum_documents(reader, self.content)]:
                    batch.append(doc)
                    for w in spell_words(doc):
                        words[w] = words.get(w, 0) + 1
                    if len(batch) >= BATCH:
                        count += self._write_batch(batch)
                        batch = []
                count += self._write_batch(batch)
            with self.sessionmaker() as session:
                session.execute(text("DELETE FROM search_document WHERE updated_at < :since"), {"since": since})
                session.execute(text("DELETE FROM search_vocabulary"))
                items = [{"word": w, "docs": n} for w, n in words.items()]
                for i in range(0, len(items), 5000):
                    session.execute(text("INSERT INTO search_vocabulary (word, docs) VALUES (:word, :docs)"), items[i : i + 5000])
                # Changes committed while the build ran may have been overwritten by an older read: apply them again.
                cutoff = since - timedelta(seconds=self.grace)
                recent = session.execute(text("SELECT doc_kind, doc_id FROM search_outbox WHERE created_at >= :c"), {"c": cutoff}).all()
                self.apply(session, [(k, i) for k, i in recent])
                self._set_state(
                    session,
                    schema=SCHEMA_VERSION,
                    synonyms=self.synonyms_hash,
                    content_signature=signature,
                    built_at=utcnow().isoformat(),
                    built_docs=count,
                )
                session.commit()
            self.engine.clear_caches()
            # VACUUM too: the rebuild rewrote every row, and the index scans read the visibility map.
            with self.app.extensions["db_engine"].connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE search_document"))
            return {"generation": "search_document", "documents": count, "seconds": time.monotonic() - started}

    def _write_batch(self, docs: list[dict]) -> int:
        if not docs:
            return 0
        changes = Changes()
        for doc in docs:
            changes.put(doc["key"], doc)
        with self.sessionmaker() as session:
            write(session, changes, self.analyzer)
            session.commit()
        return len(docs)

    def reload_synonyms(self) -> None:
        """Read site/synonyms.txt again (this process's analyzer; other nodes read it when they start)."""
        table, self.synonyms_hash = load_synonyms(self.content_dir / "synonyms.txt")
        self.analyzer = self.engine.analyzer = stemming_analyzer(table)
        self.engine.clear_caches()

    def ensure(self) -> str:
        self.reload_synonyms()
        with self.sessionmaker() as session:
            try:
                with session.begin_nested():
                    state = self._state(session)
            except ProgrammingError as exc:
                raise RuntimeError("the search tables are missing: run `flask --app app db upgrade`") from exc
        if not state.get("built_at"):
            self.rebuild()
            return "built: search had not been built"
        if state.get("schema") != str(SCHEMA_VERSION):
            self.rebuild()
            return "rebuilt: the documents were written by another version"
        if state.get("synonyms") != self.synonyms_hash:
            self.rebuild()
            return "rebuilt: site/synonyms.txt changed"
        changed = state.get("content_signature") != self.content_signature()
        if changed:
            self.reindex_pages()
        mismatch = self._count_mismatch()
        if mismatch:
            self.rebuild()
            return f"rebuilt: {mismatch}"
        return "pages reindexed (site/ changed)" if changed else "up to date"

    def _count_mismatch(self) -> str | None:
        with self.sessionmaker() as session:
            documents = session.execute(text("SELECT count(*) FROM search_document")).scalar() or 0
            expected = self.rules.expected_documents(session)
        if documents != expected:
            return f"search_document holds {documents} documents, the database {expected}"
        return None

    def status(self) -> dict:
        """Health, documents, state and which optional extensions are missing; never raises for a missing table."""
        with self.sessionmaker() as session:
            installed = set(session.execute(text("SELECT extname FROM pg_extension")).scalars())
            missing = [e for e in EXTENSIONS if e not in installed]
            try:
                with session.begin_nested():
                    state = self._state(session)
                    documents = session.execute(text("SELECT count(*) FROM search_document")).scalar() or 0
                    words = session.execute(text("SELECT count(*) FROM search_vocabulary")).scalar() or 0
            except ProgrammingError:
                return {
                    "engine": "postgres",
                    "health": "the search tables are missing: run `flask --app app db upgrade`",
                    "missing_extensions": ", ".join(missing) or "none",
                }
            expected = self.rules.expected_documents(session)
            rows = session.execute(text("SELECT count(*) FROM search_outbox")).scalar() or 0
        problems = []
        if not state.get("built_at"):
            problems.append("search has not been built yet: run `flask --app app index ensure`")
        elif documents != expected:
            problems.append(f"search_document holds {documents} documents, the database {expected}")
        if state.get("synonyms") and state.get("synonyms") != self.synonyms_hash:
            problems.append("site/synonyms.txt changed since the last build: run `flask --app app index ensure`")
        return {
            "engine": "postgres",
            "health": "; ".join(problems) if problems else "ok",
            "documents": documents,
            "documents_expected": expected,
            "vocabulary_words": words,
            "built_at": state.get("built_at"),
            "pages_current": state.get("content_signature") == self.content_signature(),
            "outbox_rows": rows,
            "outbox_pending": 0,  # nothing waits: documents are written in the changing transaction
            # Not needed by the engine (the site's analyzer folds accents before PostgreSQL sees text).
            "missing_extensions": ", ".join(missing) or "none",
            "search_database": "replica (SEARCH_DATABASE_URL)" if self.app.config["SEARCH_DATABASE_URL"] else "primary",
        }


def init(app: Flask) -> tuple[PgEngine, PgIndexer]:
    table, synonyms_hash = load_synonyms(Path(app.config["CONTENT_DIR"]) / "synonyms.txt")
    analyzer = stemming_analyzer(table)
    engine = PgEngine(app, analyzer)
    indexer = PgIndexer(app, engine, analyzer, synonyms_hash)
    indexer.listen()
    return engine, indexer
