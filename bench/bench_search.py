"""Search benchmark: this service against the naive new-searcher-per-query pattern and SQLite FTS5.

Run: `.venv/bin/python -m bench bench_search` (or `make bench`). BENCH_SEARCH_POSTS sets the
size of the synthetic forum (default below). Everything is generated from a fixed seed, so two
runs index the same corpus; the figures depend on the machine.
"""

from __future__ import annotations

import gc
import os
import random
import resource
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

POSTS = int(os.environ.get("BENCH_SEARCH_POSTS", "100000"))
POSTS_PER_TOPIC = 10
SEED = 20261127

DOMAIN = (
    "ldn low dose naltrexone fibromyalgia fibro pain sleep fatigue tired dose mg tablet capsule liquid compounded "
    "pharmacy doctor gp rheumatologist neurologist pregabalin lyrica duloxetine cymbalta milnacipran savella "
    "amitriptyline elavil cyclobenzaprine pacing crash pem brain fog flare exercise walking swimming yoga cbt "
    "therapy trial study evidence placebo side effects dreams vivid insomnia nausea headache dizziness weight "
    "morning night evening week month year better worse helped started stopped increased reduced titrate "
    "me cfs chronic syndrome widespread tender muscle joint nerve neuropathy neuropathic inflammation immune "
    "glial cells microglia opioid receptor endorphin blocker naltrexon fibromyalgia"
).split()
SYLLABLES = "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo fu la le li lo lu ma me mi mo mu na ne ni no nu " \
            "ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu za ze zi zo zu".split()

QUERIES = {
    "single term": ["naltrexone", "sleep", "fatigue", "dizziness", "rheumatologist", "microglia"],
    "AND": ["ldn sleep", "pain dose", "fibromyalgia exercise", "vivid dreams", "doctor naltrexone trial"],
    "phrase": ['"low dose"', '"brain fog"', '"side effects"', '"vivid dreams"'],
    "prefix": ["fibro*", "neuro*", "slee*", "pha*", "ti*"],
    "fuzzy": ["naltrexon", "fibromyalga", "dizzyness", "rheumatolgist", "insomina"],
}


def _vocabulary(rng: random.Random) -> list[str]:
    made = {"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(6000)}
    return DOMAIN + sorted(made)


def _sentence(rng: random.Random, vocab: list[str], cum: list[float], n: int) -> str:
    return " ".join(rng.choices(vocab, cum_weights=cum, k=n))


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50 * 1000, p95 * 1000


def _fmt(ms: float) -> str:
    return f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


class Corpus:
    """A throwaway app, database and index directory with the synthetic forum loaded."""

    def __init__(self, posts: int, mmap: bool = False) -> None:
        from ldnsite import create_app, models_registry
        from ldnsite.db import Base

        models_registry.import_all()
        self.dir = Path(tempfile.mkdtemp(prefix="bench-search-"))
        self.app = create_app({
            "TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{self.dir / 'bench.db'}",
            "INDEX_DIR": str(self.dir / "index"), "SEARCH_INDEX_ON_COMMIT": False, "SEARCH_INDEX_MMAP": mmap,
            "RATELIMIT_ENABLED": False, "MAIL_URL": f"file:{self.dir / 'outbox'}",
        })
        Base.metadata.create_all(self.app.extensions["db_engine"])
        self.posts = posts
        self.texts: list[tuple[str, str, str, str]] = []  # (kind, ref, title, body) for FTS5
        self._generate()

    def _generate(self) -> None:
        from ldnsite.db import utcnow
        from ldnsite.forum.models import Post, Topic

        rng = random.Random(SEED)
        vocab = _vocabulary(rng)
        weights = [1 / (rank + 1) ** 1.05 for rank in range(len(vocab))]
        rng.shuffle(weights[len(DOMAIN):])  # invented words get random frequencies, domain words stay common
        cum, total = [], 0.0
        for w in weights:
            total += w
            cum.append(total)
        start = utcnow() - timedelta(days=3 * 365)
        topics, posts = [], []
        topic_count = max(1, self.posts // POSTS_PER_TOPIC)
        post_id = 0
        for t in range(1, topic_count + 1):
            when = start + timedelta(minutes=t * 15)
            title = _sentence(rng, vocab, cum, rng.randint(3, 8)).capitalize()
            topics.append({"id": t, "title": title, "status": "published", "created_at": when, "last_activity_at": when})
            for n in range(POSTS_PER_TOPIC):
                post_id += 1
                body = _sentence(rng, vocab, cum, rng.randint(20, 90))
                status = "removed" if rng.random() < 0.02 else "published"
                posts.append({"id": post_id, "topic_id": t, "body_source": body, "body_html": f"<p>{body}</p>",
                              "status": status, "created_at": when + timedelta(minutes=n)})
                if status == "published":
                    self.texts.append(("topic" if n == 0 else "post", str(t if n == 0 else post_id),
                                       title if n == 0 else "", body))
        engine = self.app.extensions["db_engine"]
        with engine.begin() as conn:
            for i in range(0, len(topics), 5000):
                conn.execute(Topic.__table__.insert(), topics[i:i + 5000])
            for i in range(0, len(posts), 5000):
                conn.execute(Post.__table__.insert(), posts[i:i + 5000])
        store = self.app.extensions["content"]
        for page in store.all():
            from ldnsite.search.documents import page_text

            self.texts.append(("page", page.slug, page.title, page.summary + " " + " ".join(page.keywords) + " " + page_text(page)))

    def close(self) -> None:
        self.app.extensions["db_engine"].dispose()
        shutil.rmtree(self.dir, ignore_errors=True)


def _service_query(app, q: str) -> bool:
    """One search as /search runs it; True when the forum pass stopped at its budget."""
    from ldnsite.db import get_session
    from ldnsite.search.results import hydrate

    outcome = app.extensions["search"].search(q)
    hydrate(outcome.hits, outcome.highlight_terms, get_session(), app.extensions["content"])
    return outcome.more


def _naive_query(app, index_path: str, q: str) -> None:
    """The Flask-WhooshAlchemy pattern: open the index and a searcher for every query, parse with QueryParser."""
    from ldnsite.db import get_session
    from ldnsite.search.baseline import naive_search
    from ldnsite.search.results import hydrate

    hits, terms = naive_search(index_path, q)
    hydrate(hits, terms, get_session(), app.extensions["content"])


def _fts5(corpus: Corpus) -> sqlite3.Connection:
    conn = sqlite3.connect(str(corpus.dir / "fts.db"))
    conn.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, kind UNINDEXED, ref UNINDEXED, "
                 "tokenize='porter unicode61 remove_diacritics 2')")
    conn.executemany("INSERT INTO docs(title, body, kind, ref) VALUES (?, ?, ?, ?)",
                     [(title, body, kind, ref) for kind, ref, title, body in corpus.texts])
    conn.commit()
    return conn


def _fts5_query(conn: sqlite3.Connection, q: str) -> None:
    conn.execute("SELECT kind, ref, snippet(docs, 1, '<mark>', '</mark>', ' … ', 16) FROM docs WHERE docs MATCH ? "
                 "ORDER BY bm25(docs, 4.0, 1.0) LIMIT 10", (q,)).fetchall()


def _time(fn, queries: list[str]) -> list[float]:
    samples = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        samples.append(time.perf_counter() - t0)
    return samples


def _zipf_mix(rng: random.Random, queries: list[str], n: int) -> list[str]:
    weights = [1 / (rank + 1) for rank in range(len(queries))]
    shuffled = queries[:]
    rng.shuffle(shuffled)
    return rng.choices(shuffled, weights=weights, k=n)


def _freshness(corpus: Corpus, seconds: float = 20.0, rate: float = 10.0) -> tuple[list[float], list[float], int]:
    """A writer adds `rate` posts a second (each indexed after its commit); a reader polls until each is found."""
    from ldnsite.db import get_session, utcnow
    from ldnsite.forum.models import Post
    from ldnsite.search.outbox import enqueue

    app = corpus.app
    app.config["SEARCH_INDEX_ON_COMMIT"] = True
    service = app.extensions["search"]
    pending: dict[str, float] = {}
    latencies: list[float] = []
    commits: list[float] = []
    lock = threading.Lock()
    done = threading.Event()

    def writer() -> None:
        with app.app_context():
            for n in range(int(seconds * rate)):
                due = start + n / rate
                time.sleep(max(0.0, due - time.perf_counter()))
                token = f"freshtoken{n:05d}x"
                session = get_session()
                post = Post(topic_id=1 + n % 50, body_source=token, body_html=f"<p>{token} about sleep</p>", created_at=utcnow())
                session.add(post)
                session.flush()
                enqueue(session, "post", post.id)
                t0 = time.perf_counter()
                with lock:
                    pending[token] = t0
                session.commit()
                commits.append(time.perf_counter() - t0)
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

    start = time.perf_counter()
    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds * 5 + 60)
    app.config["SEARCH_INDEX_ON_COMMIT"] = False
    gen = app.extensions["search_indexer"].store.live()
    segments = len(gen.open()._segments())
    return latencies, commits, segments


def _storage_comparison(corpus: Corpus, queries: dict[str, list[str]]) -> list[tuple[str, ...]]:
    """Open time, update + commit and query speed with and without memory mapping, on the same index."""
    from ldnsite.db import get_session
    from ldnsite.search.documents import post_document
    from ldnsite.search.service import SearchService
    from ldnsite.search.storage import Generation

    app = corpus.app
    indexer = app.extensions["search_indexer"]
    live = indexer.store.live()
    rows = []
    default = indexer.store.mmap
    for mmap in (False, True):
        gen = Generation(live.path, mmap)
        opens = []
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(15):
            t0 = time.perf_counter()
            s = gen.open().searcher()
            s.reader().doc_count()
            opens.append(time.perf_counter() - t0)
            s.close()
        rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        commits = []
        from ldnsite.forum.models import Post

        with app.app_context():
            session = get_session()
            sample = session.query(Post).filter(Post.status == "published").limit(40).all()
            ix = gen.open()
            for post in sample[:20]:
                t0 = time.perf_counter()
                w = ix.writer(timeout=10)
                w.update_document(**post_document(post))
                w.commit(merge=True)
                commits.append(time.perf_counter() - t0)
        indexer.store.mmap = mmap
        service = SearchService(indexer.store, indexer, app.extensions["search"].synonyms)
        saved, app.extensions["search"] = app.extensions["search"], service
        try:
            def cold(q: str, service=service) -> None:
                service._cache.clear()
                _service_query(app, q)

            with app.app_context():
                fuzzy = _time(cold, queries["fuzzy"] * 2)
                everything = _time(cold, [q for qs in queries.values() for q in qs])
        finally:
            app.extensions["search"] = saved
            service.pool.close()
            indexer.store.mmap = default
        rows.append(("memory-mapped (`supports_mmap=True`)" if mmap else "plain reads (`supports_mmap=False`, the default)",
                     _fmt(_percentiles(opens)[0]), f"{rss_growth:.0f}", _fmt(_percentiles(commits)[0]),
                     _fmt(_percentiles(commits)[1]), _fmt(_percentiles(everything)[0]), _fmt(_percentiles(everything)[1]),
                     _fmt(_percentiles(fuzzy)[0])))
    return rows


def run() -> str:
    t_start = time.perf_counter()
    corpus = Corpus(POSTS)
    generated = time.perf_counter() - t_start
    app = corpus.app
    indexer = app.extensions["search_indexer"]
    out: list[str] = ["## Search", ""]
    try:
        gc.collect()
        with app.app_context():
            report = indexer.rebuild()
        docs_per_s = report["documents"] / report["seconds"]
        index_path = str(indexer.store.live().path)
        size_mb = sum(p.stat().st_size for p in Path(index_path).iterdir()) / 1e6

        all_queries = [q for qs in QUERIES.values() for q in qs]
        conn = _fts5(corpus)
        service = app.extensions["search"]
        rows = []
        with app.app_context():
            for q in all_queries:  # warm the searcher pool and the OS cache once, like a running worker
                _service_query(app, q)
            stopped: dict[str, int] = {}
            for kind, qs in QUERIES.items():
                def cold(q, kind=kind):
                    service._cache.clear()
                    if _service_query(app, q):
                        stopped[kind] = stopped.get(kind, 0) + 1

                ours = _time(cold, qs * 3)
                naive = _time(lambda q: _naive_query(app, index_path, q), qs * 3)
                fts = _time(lambda q: _fts5_query(conn, q.replace("*", "") + ("*" if q.endswith("*") else "")), qs * 3)
                rows.append((kind, ours, naive, fts))
            allours = [s for r in rows for s in r[1]]
            allnaive = [s for r in rows for s in r[2]]
            allfts = [s for r in rows for s in r[3]]
            rng = random.Random(SEED)
            mix = _zipf_mix(rng, all_queries, 600)
            service._cache.clear()
            zipf_ours = _time(lambda q: _service_query(app, q), mix)
            zipf_naive = _time(lambda q: _naive_query(app, index_path, q), mix[:100])
            zipf_fts = _time(lambda q: _fts5_query(conn, q), mix)
        conn.close()

        latencies, commit_times, segments = _freshness(corpus)
        storage = _storage_comparison(corpus, QUERIES)

        out += [
            f"Synthetic forum: **{POSTS:,} posts** in {POSTS // POSTS_PER_TOPIC:,} topics (seed {SEED}, ~2% removed), "
            f"plus the {len(app.extensions['content'].all())} pages in site/; "
            f"{report['documents']:,} documents indexed, index {size_mb:.0f} MB. "
            f"Generated in {generated:.0f} s. Command: `.venv/bin/python -m bench bench_search` "
            f"(BENCH_SEARCH_POSTS={POSTS}).",
            "",
            "### Query latency, top 10 with highlighted snippets (ms)",
            "",
            "Cold: each query run 3 times with the result cache cleared. This service includes loading the rows "
            "from the database, the visibility check and the snippets. The naive pattern opens the index and a "
            "searcher for every query (memory-mapped, as `open_dir` does) and parses with `MultifieldParser`. "
            "FTS5: `bm25()` and `snippet()` over the same documents (FTS5 has no fuzzy matching: typos are searched as typed).",
            "",
            "| query kind | this service p50 | p95 | forum pass stopped at its budget | naive p50 | p95 | FTS5 p50 | p95 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for kind, ours, naive, fts in rows:
            o, n, f = _percentiles(ours), _percentiles(naive), _percentiles(fts)
            out.append(f"| {kind} | {_fmt(o[0])} | {_fmt(o[1])} | {stopped.get(kind, 0)} of {len(ours)} | "
                       f"{_fmt(n[0])} | {_fmt(n[1])} | {_fmt(f[0])} | {_fmt(f[1])} |")
        o, n, f = _percentiles(allours), _percentiles(allnaive), _percentiles(allfts)
        out.append(f"| **all, cold** | **{_fmt(o[0])}** | **{_fmt(o[1])}** | {sum(stopped.values())} of {len(allours)} | "
                   f"{_fmt(n[0])} | {_fmt(n[1])} | {_fmt(f[0])} | {_fmt(f[1])} |")
        zo, zn, zf = _percentiles(zipf_ours), _percentiles(zipf_naive), _percentiles(zipf_fts)
        out.append(f"| **Zipf mix** ({len(mix)} queries, result cache on) | **{_fmt(zo[0])}** | **{_fmt(zo[1])}** | – | "
                   f"{_fmt(zn[0])} | {_fmt(zn[1])} | {_fmt(zf[0])} | {_fmt(zf[1])} |")
        out += [
            "",
            f"Cold p50: this service is {n[0] / o[0]:.1f}× faster than the naive pattern and {o[0] / f[0]:.1f}× FTS5's time.",
            "",
            "### Indexing",
            "",
            "| measure | value |",
            "|---|---:|",
            f"| full rebuild (`flask index rebuild`) | {docs_per_s:,.0f} documents/s ({report['seconds']:.0f} s) |",
        ]
        lp, cp = _percentiles(latencies), _percentiles(commit_times)
        out += [
            f"| new post searchable, 10 posts/s arriving for 20 s: p50 / p95 | {_fmt(lp[0])} / {_fmt(lp[1])} ms "
            f"({len(latencies)} posts) |",
            f"| commit + outbox applied to the index: p50 / p95 | {_fmt(cp[0])} / {_fmt(cp[1])} ms |",
            f"| segments after those {len(commit_times)} small commits | {segments} |",
            "",
            "### Storage: memory-mapped or plain reads (same index)",
            "",
            "| storage | open searcher p50 (ms) | peak RSS growth (MB) | update + commit p50 | p95 (ms) | "
            "all queries p50 | p95 (ms) | fuzzy p50 (ms) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        out += ["| " + " | ".join(r) + " |" for r in storage]
        out += ["", f"Bench wall time {time.perf_counter() - t_start:.0f} s.", ""]
    finally:
        corpus.close()
    return "\n".join(out)


if __name__ == "__main__":
    print(run())
