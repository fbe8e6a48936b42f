"""Search benchmark: judged relevance and speed of this service (both engines) against plain Whoosh, FTS5 and PostgreSQL.

Run: `.venv/bin/python -m bench bench_search` (or `make bench`). BENCH_SEARCH_SIZES sets the forum sizes
(default "100000,300000"; e.g. BENCH_SEARCH_SIZES=20000 for a quick run). The corpus is generated from a
fixed seed (search_corpus.py), and the queries and judgments are in search_judgments.py. PostgreSQL at
BENCH_PG_URL (default postgresql://127.0.0.1:5432/test): the bench creates and drops its own database.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.search_corpus import Forum, hidden_keys, hide, load
from bench.search_judgments import QUERIES, Scores, judgments, score

SIZES = [int(s) for s in os.environ.get("BENCH_SEARCH_SIZES", "100000,300000").split(",") if s.strip()]
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://127.0.0.1:5432/test")
NOTE = (
    "Warm: the query's second run (this service: result cache cleared, posting cache warm). "
    "Cold: first run (this service: posting and result caches emptied first; the OS file cache is warm). "
    "This service's times include loading rows from the database, the visibility check and highlighted "
    "snippets; the others' are the SELECT or the Whoosh search (plain Whoosh also loads rows to drop hidden "
    "ones). Plain Whoosh BM25F runs on this service's index (same analyzer and synonyms), opening it for each "
    "query as the common pattern does."
)
PG_ENGINE = "this service, PostgreSQL engine"
SYSTEMS = ("this service", PG_ENGINE, "plain Whoosh BM25F", "SQLite FTS5 bm25", "PostgreSQL ts_rank_cd")


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def _fmt(ms: float) -> str:
    return f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Bench:
    """One forum size: the app, its database and index, and the three other systems on the same documents."""

    def __init__(self, posts: int) -> None:
        from ldnsite import create_app, models_registry
        from ldnsite.db import Base

        models_registry.import_all()
        self.dir = Path(tempfile.mkdtemp(prefix="bench-search-"))
        self.app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{self.dir / 'bench.db'}",
                "INDEX_DIR": str(self.dir / "index"),
                "SEARCH_INDEX_ON_COMMIT": False,
                "RATELIMIT_ENABLED": False,
                "MAIL_URL": f"file:{self.dir / 'outbox'}",
            }
        )
        engine = self.app.extensions["db_engine"]
        Base.metadata.create_all(engine)
        t0 = time.perf_counter()
        self.forum = Forum(posts)
        load(self.forum, engine)
        self.generated = time.perf_counter() - t0
        with self.app.app_context():
            cpu, self.build_load = time.process_time(), os.getloadavg()[0]
            self.build = self.app.extensions["search_indexer"].rebuild()
            self.build_cpu = time.process_time() - cpu  # one process: the rate one core gives, whatever else runs
        self.pg_app, self.pg_engine_name = self._pg_engine()
        hide(self.forum, engine)  # after indexing: only the database check can hide these
        hide(self.forum, self.pg_app.extensions["db_engine"])
        self.hidden = hidden_keys(self.forum)
        self.index_path = str(self.app.extensions["search_indexer"].store.live().path)
        self.index_mb = sum(p.stat().st_size for p in Path(self.index_path).iterdir()) / 1e6
        store = self.app.extensions["content"]
        from ldnsite.search.documents import page_document

        self.page_urls = {p.url: f"page:{p.slug}" for p in store.all()}
        self.docs = [
            (d["key"], d["title"], d["keywords"], d["body"]) for d in (page_document(store, p) for p in store.all())
        ] + self.forum.visible_documents()
        self.judged = judgments(self.forum, {p.slug for p in store.all()})
        self.fts = self._fts5()
        self.pg_name, self.pg = self._postgres()

    def _pg_engine(self):
        """This service with SEARCH_BACKEND=postgres, on a database of its own holding the same forum."""
        import psycopg

        from ldnsite import create_app
        from ldnsite.db import Base
        from ldnsite.search import pg_tables

        name = f"bench_search_engine_{os.getpid()}"
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
            admin.execute(f"CREATE DATABASE {name}")
        url = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0] + "/" + name
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "DATABASE_URL": url,
                "SEARCH_BACKEND": "postgres",
                "INDEX_DIR": str(self.dir / "no-index"),
                "RATELIMIT_ENABLED": False,
                "MAIL_URL": f"file:{self.dir / 'outbox-pg'}",
            }
        )
        engine = app.extensions["db_engine"]
        Base.metadata.create_all(engine)
        pg_tables.metadata.create_all(engine)
        load(self.forum, engine)
        with app.app_context():
            self.pg_engine_build = app.extensions["search_indexer"].rebuild()
        with engine.connect() as conn:
            from sqlalchemy import text

            self.pg_engine_mb = conn.execute(text("SELECT pg_total_relation_size('search_document')")).scalar() / 1e6
        return app, name

    # ---- the other systems ----------------------------------------------------------------------

    def _fts5(self) -> sqlite3.Connection:
        t0 = time.perf_counter()
        conn = sqlite3.connect(str(self.dir / "fts.db"), check_same_thread=False)
        conn.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(title, keywords, body, key UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
        )
        conn.executemany("INSERT INTO docs(title, keywords, body, key) VALUES (?, ?, ?, ?)", [(t, k, b, key) for key, t, k, b in self.docs])
        conn.commit()
        self.fts_build = time.perf_counter() - t0
        self.fts_mb = (self.dir / "fts.db").stat().st_size / 1e6
        return conn

    def _postgres(self):
        import psycopg

        name = f"bench_search_{os.getpid()}"
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
            admin.execute(f"CREATE DATABASE {name}")
        conn = psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/" + name, autocommit=True)
        t0 = time.perf_counter()
        conn.execute("CREATE TABLE docs (key text PRIMARY KEY, kind text, title text, keywords text, body text, tsv tsvector)")
        with conn.cursor().copy("COPY docs (key, kind, title, keywords, body) FROM STDIN") as copy:
            for key, t, k, b in self.docs:
                copy.write_row((key, "page" if key.startswith("page:") else "forum", t, k, b))
        conn.execute(
            "UPDATE docs SET tsv = setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(keywords, '')), 'B') || "
            "setweight(to_tsvector('english', coalesce(body, '')), 'D')"
        )
        conn.execute("CREATE INDEX docs_tsv ON docs USING gin (tsv)")
        conn.execute("VACUUM ANALYZE docs")
        self.pg_build = time.perf_counter() - t0
        self.pg_mb = conn.execute("SELECT pg_total_relation_size('docs')").fetchone()[0] / 1e6
        return name, conn

    def close(self) -> None:
        import psycopg

        self.fts.close()
        self.pg.close()
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {self.pg_name}")
        self.app.extensions["search"].pool.close()
        self.app.extensions["db_engine"].dispose()
        self.pg_app.extensions["db_engine"].dispose()
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {self.pg_engine_name}")
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- one query per system, returning ranked keys ---------------------------------------------------------

    def _keys(self, items) -> list[str]:
        keys = []
        for item in items:
            if item.kind == "page":
                keys.append(self.page_urls.get(item.url, item.url))
            elif "#post-" in item.url:
                keys.append("post:" + item.url.rsplit("-", 1)[1])
            else:
                keys.append("topic:" + item.url.rsplit("/", 1)[1])
        return keys

    def ours(self, text: str, kind: str, hydrate: bool = True, app=None) -> list[str]:
        from ldnsite.db import get_session
        from ldnsite.search.results import hydrate as load_rows

        app = app or self.app
        outcome = app.extensions["search"].search(text, kind=kind)
        if not hydrate:
            return [f"{h.kind}:{h.ref}" for h in outcome.hits]
        items = load_rows(outcome.hits, outcome.highlight_terms, get_session(), app.extensions["content"], outcome.analyzer)
        return self._keys(items)

    def ours_pg(self, text: str, kind: str, hydrate: bool = True) -> list[str]:
        with self.pg_app.app_context():
            return self.ours(text, kind, hydrate, app=self.pg_app)

    def whoosh(self, text: str, kind: str) -> list[str]:
        from ldnsite.db import get_session
        from ldnsite.search.baseline import naive_search
        from ldnsite.search.documents import load_visible

        hits, _terms = naive_search(self.index_path, text, pages_only=kind == "pages")
        visible = load_visible(
            get_session(), {int(h.ref) for h in hits if h.kind == "topic"}, {int(h.ref) for h in hits if h.kind == "post"}
        )
        return [
            f"{h.kind}:{h.ref}"
            for h in hits
            if h.kind == "page"
            or (h.kind == "topic" and int(h.ref) in visible.topics)
            or (h.kind == "post" and int(h.ref) in visible.posts)
        ]

    def fts5(self, text: str, kind: str) -> list[str]:
        parts = []
        for token in re.findall(r'-?"[^"]*"|\S+', text):
            neg = token.startswith("-")
            words = re.findall(r"\w+", token)
            if not words:
                continue
            phrase = '"' + " ".join(words) + '"' + ("*" if token.endswith("*") else "")
            parts.append(("NOT " if neg and parts else "") + phrase)
        if not parts:
            return []
        where = " AND key LIKE 'page:%'" if kind == "pages" else ""
        try:
            rows = self.fts.execute(
                f"SELECT key FROM docs WHERE docs MATCH ?{where} ORDER BY bm25(docs, 4.0, 3.0, 1.0) LIMIT 10", (" ".join(parts),)
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        return [r[0] for r in rows]

    def postgres(self, text: str, kind: str) -> list[str]:
        where = " AND kind = 'page'" if kind == "pages" else ""
        rows = self.pg.execute(
            "SELECT key FROM docs, websearch_to_tsquery('english', %s) q WHERE tsv @@ q"
            + where
            + " ORDER BY ts_rank_cd(tsv, q) DESC, key LIMIT 10",
            (text,),
        ).fetchall()
        return [r[0] for r in rows]

    # ---- measuring -------------------------------------------------------------------------------------------

    def evaluate(self) -> dict:
        service = self.app.extensions["search"]
        runners = {
            "this service": self.ours,
            PG_ENGINE: self.ours_pg,
            "plain Whoosh BM25F": self.whoosh,
            "SQLite FTS5 bm25": self.fts5,
            "PostgreSQL ts_rank_cd": self.postgres,
        }
        results = {}
        with self.app.app_context():
            for name, run in runners.items():
                scores, warm, cold = Scores(), [], []
                for query in QUERIES:
                    if name == "this service":
                        service._cache.clear()
                        service._corrections.clear()
                        service.postings.clear()
                    if name == PG_ENGINE:
                        self.pg_app.extensions["search"].engine.clear_caches()  # counts and spellings
                    t0 = time.perf_counter()
                    keys = run(query.text, query.kind)
                    cold.append(time.perf_counter() - t0)
                    if name == "this service":
                        service._cache.clear()
                    t0 = time.perf_counter()
                    keys = run(query.text, query.kind)
                    warm.append(time.perf_counter() - t0)
                    grades, old, page_key = self.judged[query.text]
                    score(scores, keys, grades, old, page_key, self.hidden)
                results[name] = (scores, warm, cold)
            # Ranking alone, without loading rows and cutting snippets: comparable with the baselines' SELECTs.
            bare = []
            for query in QUERIES:
                service._cache.clear()
                t0 = time.perf_counter()
                self.ours(query.text, query.kind, hydrate=False)
                bare.append(time.perf_counter() - t0)
            self.bare = bare
            bare_pg = []
            for query in QUERIES:
                t0 = time.perf_counter()
                self.ours_pg(query.text, query.kind, hydrate=False)
                bare_pg.append(time.perf_counter() - t0)
            self.bare_pg = bare_pg
        return results

    def freshness(self, seconds: float = 20.0, rate: float = 10.0) -> tuple[list[float], int]:
        """A writer adds `rate` posts a second (each indexed after its commit); a reader polls until each is found."""
        from ldnsite.db import get_session, utcnow
        from ldnsite.forum.models import Post
        from ldnsite.search.outbox import enqueue

        app = self.app
        app.config["SEARCH_INDEX_ON_COMMIT"] = True
        service = app.extensions["search"]
        pending: dict[str, float] = {}
        latencies: list[float] = []
        lock = threading.Lock()
        done = threading.Event()
        start = time.perf_counter()

        def writer() -> None:
            with app.app_context():
                for n in range(int(seconds * rate)):
                    time.sleep(max(0.0, start + n / rate - time.perf_counter()))
                    token = f"freshtoken{n:05d}x"
                    session = get_session()
                    post = Post(topic_id=1 + n % 50, body_source=token, body_html=f"<p>{token} about sleep</p>", created_at=utcnow())
                    session.add(post)
                    session.flush()
                    enqueue(session, "post", post.id)
                    with lock:
                        pending[token] = time.perf_counter()
                    session.commit()
            done.set()

        def reader() -> None:
            with app.app_context():
                while not done.is_set() or pending:
                    with lock:
                        tokens = list(pending.items())
                    for token, t0 in tokens:
                        if service.search(token).total:
                            latencies.append(time.perf_counter() - t0)
                            with lock:
                                pending.pop(token, None)
                    time.sleep(0.005)

        threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds * 5 + 60)
        app.config["SEARCH_INDEX_ON_COMMIT"] = False
        segments = len(self.app.extensions["search_indexer"].store.live().open()._segments())
        return latencies, segments


def _summary(scores: Scores) -> dict:
    ranks = scores.page_ranks
    return {
        "ndcg": statistics.mean(scores.ndcg) if scores.ndcg else 0.0,
        "p10": statistics.mean(scores.p10) if scores.p10 else 0.0,
        "old": scores.old_found / scores.old_total if scores.old_total else 0.0,
        "page_first": sum(r == 1 for r in ranks),
        "page_queries": len(ranks),
        "page_mean": statistics.mean([r if r else 11 for r in ranks]) if ranks else 0.0,
        "zero": scores.zero / scores.queries if scores.queries else 0.0,
        "leaked": scores.leaked,
    }


def _groups(bench: Bench) -> list[str]:
    """nDCG@10 of this service (both engines) and PostgreSQL per query group, so a weak group is visible."""
    lines = ["", "| group | queries | this service nDCG@10 | PostgreSQL engine nDCG@10 | PostgreSQL nDCG@10 |", "|---|---:|---:|---:|---:|"]
    with bench.app.app_context():
        for group in dict.fromkeys(q.group for q in QUERIES):
            ours, engine, pg = Scores(), Scores(), Scores()
            members = [q for q in QUERIES if q.group == group]
            for query in members:
                grades, old, page_key = bench.judged[query.text]
                score(ours, bench.ours(query.text, query.kind), grades, old, page_key, bench.hidden)
                score(engine, bench.ours_pg(query.text, query.kind), grades, old, page_key, bench.hidden)
                score(pg, bench.postgres(query.text, query.kind), grades, old, page_key, bench.hidden)
            lines.append(
                f"| {group} | {len(members)} | {_summary(ours)['ndcg']:.2f} | {_summary(engine)['ndcg']:.2f} | {_summary(pg)['ndcg']:.2f} |"
            )
    return lines


def run() -> str:
    out = [
        "## Search",
        "",
        f"{len(QUERIES)} judged queries ({', '.join(dict.fromkeys(q.group for q in QUERIES))}); "
        f"forum sizes {', '.join(f'{s:,}' for s in SIZES)} posts. Command: `make bench` "
        f"(BENCH_SEARCH_SIZES={','.join(map(str, SIZES))}).",
        "",
    ]
    header = (
        "| posts | system | nDCG@10 | P@10 | old answers in top 10 | answering page first | mean page rank | "
        "zero results | warm p50 | warm p95 | cold p50 | cold p95 | build (docs/s) | size (MB) |"
    )
    table = [header, "|" + "---|" * 2 + "---:|" * 12]
    extra: list[str] = []
    for size in SIZES:
        t0 = time.perf_counter()
        gc.collect()
        rss_before = _rss_mb()
        bench = Bench(size)
        try:
            results = bench.evaluate()
            rss_after_queries = _rss_mb()
            pg_build = bench.pg_engine_build
            builds = {
                "this service": (bench.build["documents"] / bench.build["seconds"], bench.index_mb),
                PG_ENGINE: (pg_build["documents"] / pg_build["seconds"], bench.pg_engine_mb),
                "plain Whoosh BM25F": (bench.build["documents"] / bench.build["seconds"], bench.index_mb),
                "SQLite FTS5 bm25": (len(bench.docs) / bench.fts_build, bench.fts_mb),
                "PostgreSQL ts_rank_cd": (len(bench.docs) / bench.pg_build, bench.pg_mb),
            }
            for name in SYSTEMS:
                scores, warm, cold = results[name]
                s = _summary(scores)
                w, c = _percentiles(warm), _percentiles(cold)
                rate, mb = builds[name]
                table.append(
                    f"| {size:,} | {name} | {s['ndcg']:.3f} | {s['p10']:.3f} | {s['old']:.0%} | "
                    f"{s['page_first']} of {s['page_queries']} | {s['page_mean']:.1f} | {s['zero']:.0%} | "
                    f"{_fmt(w[0])} | {_fmt(w[1])} | {_fmt(c[0])} | {_fmt(c[1])} | {rate:,.0f} | {mb:.0f} |"
                )
                if s["leaked"]:
                    extra.append(f"- {size:,} posts, {name}: {s['leaked']} hidden documents shown")
            bare = _percentiles(bench.bare)
            bare_pg = _percentiles(bench.bare_pg)
            groups = _groups(bench)
            latencies, segments = bench.freshness()
            lp = _percentiles(latencies) if latencies else (float("nan"), float("nan"))
            extra += [
                f"- **{size:,} posts**: {bench.build['documents']:,} documents; corpus generated and loaded in "
                f"{bench.generated:.0f} s; `index rebuild` {bench.build['seconds']:.0f} s "
                f"({bench.build['documents'] / bench.build['seconds']:,.0f} documents/s), CPU time "
                f"{bench.build_cpu:.0f} s ({bench.build['documents'] / bench.build_cpu:,.0f} documents per CPU second); "
                f"load average when it started {bench.build_load:.1f}.",
                f"  This service, ranking only (no rows, no snippets): warm p50 {_fmt(bare[0])} ms, "
                f"p95 {_fmt(bare[1])} ms; PostgreSQL engine p50 {_fmt(bare_pg[0])} ms, p95 {_fmt(bare_pg[1])} ms.",
                f"  PostgreSQL engine: `index rebuild` {pg_build['seconds']:.0f} s for {pg_build['documents']:,} "
                "documents; a new post is searchable when its transaction commits (same transaction).",
                f"  New post searchable while 10 posts/s arrive for 20 s: p50 {_fmt(lp[0])} ms, p95 {_fmt(lp[1])} ms "
                f"({len(latencies)} posts; {segments} segments after).",
                f"  Process memory: {rss_before:.0f} MB before this size, {rss_after_queries:.0f} MB after its "
                f"queries (posting cache {bench.app.extensions['search'].postings.size / 1e6:.0f} MB); "
                f"hidden strong matches planted: {len(bench.hidden)}, shown by this service: "
                f"{_summary(results['this service'][0])['leaked']} (PostgreSQL engine: "
                f"{_summary(results[PG_ENGINE][0])['leaked']}).",
                f"  Wall time {time.perf_counter() - t0:.0f} s.",
            ]
            extra += [f"  {line}" if line else "" for line in groups]
        finally:
            bench.close()
        # Each size's figures as soon as they exist: a long run that is stopped still reports what it measured.
        print("\n".join([*table, "", *extra]), file=sys.stderr, flush=True)
    out += [*table, "", NOTE, "", *extra]
    return "\n".join(out)


if __name__ == "__main__":
    print(run())
