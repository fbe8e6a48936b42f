"""Two nodes on PostgreSQL and Redis under a mixed load: latency per request type, errors, posts lost,
how long a post takes to be findable on the other node, and worker resident memory.

Why two gunicorn processes on two ports: that is what two nodes are to the
site (each with its own index directory and its own searchers), sharing one
database and one rate-limit store. Members read pages, search and reply on
both nodes at once; afterwards every reply answered "posted" must be in the
database (posts lost must be 0) and findable on both nodes.

Settings: BENCH_TWONODE_SECONDS (default 20), BENCH_TWONODE_CLIENTS (8),
BENCH_PG_URL (postgresql+psycopg://postgres@127.0.0.1:5432/test), BENCH_REDIS_URL
(redis://127.0.0.1:6379/0). A private schema is created and dropped. Skipped when
either server is unreachable.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("BENCH_TWONODE_SECONDS", "20"))
CLIENTS = int(os.environ.get("BENCH_TWONODE_CLIENTS", "8"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "bench horse battery staple"
PAGES = ("/", "/treatments/low-dose-naltrexone", "/forum/", "/conditions/fibromyalgia")
WORDS = ("naltrexone", "sleep", "fatigue", "dose", "pain")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def get(self, path: str) -> tuple[int, str]:
        return self._open(path, None)

    def post(self, path: str, data: dict, form_page: str | None = None) -> tuple[int, str]:
        status, page = self.get(form_page or path)
        match = CSRF.search(page)
        if status != 200 or match is None:
            return status, page
        return self._open(path, urllib.parse.urlencode({"csrf_token": match.group(1), **data}).encode())

    def _open(self, path: str, body: bytes | None) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, data=body, timeout=60) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except OSError as exc:
            return 0, str(exc)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _reachable() -> str | None:
    try:
        from sqlalchemy import create_engine, text

        with create_engine(PG_URL).connect() as conn:
            conn.execute(text("SELECT 1"))
        import redis

        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def _rss(master_pid: int) -> list[tuple[int, int]]:
    """(current, peak) resident memory in KiB of each worker of a gunicorn master."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True).stdout
    figures = []
    for pid in out.split():
        status = Path(f"/proc/{pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
        figures.append((rss, peak))
    return figures


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else 0.0


def run() -> str:
    problem = _reachable()
    if problem:
        return f"## Two nodes, mixed load\n\nSkipped: PostgreSQL or Redis not reachable ({problem}).\n"
    from sqlalchemy import create_engine, text

    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    procs: list[subprocess.Popen] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return _run(Path(tmp), schema, procs)
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _env(tmp: Path, node: str, schema: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "FLASK_SECRET_KEY": "bench-secret-key",
            "FLASK_DATABASE_URL": PG_URL,
            "FLASK_DATABASE_ENGINE_OPTIONS": json.dumps({"connect_args": {"options": f"-csearch_path={schema}"}}),
            "FLASK_RATELIMIT_STORAGE_URI": REDIS_URL,
            "FLASK_RATELIMIT_ENABLED": "false",
            "FLASK_INDEX_DIR": str(tmp / f"index-{node}"),
            "FLASK_MAIL_URL": f"file:{tmp / 'outbox'}",
            "FLASK_SITE_URL": "http://127.0.0.1",
            "FLASK_FORUM_HELD_FIRST_POSTS": "0",
            "FLASK_SEARCH_SYNC_INTERVAL": "0.5",
        }
    )
    return env


def _flask(env: dict, *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )


def _run(tmp: Path, schema: str, procs: list) -> str:
    envs = {node: _env(tmp, node, schema) for node in ("a", "b")}
    _flask(envs["a"], "db", "upgrade")
    for n in range(CLIENTS):
        _flask(envs["a"], "users", "create", f"bench{n}@example.com", "--name", f"Bench {n}", "--password-stdin", stdin=PASSWORD + "\n")
    bases = {}
    for node, env in envs.items():
        _flask(env, "index", "ensure")
        port = _free_port()
        log = open(tmp / f"gunicorn-{node}.log", "w")
        procs.append(
            subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "app:app"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        bases[node] = f"http://127.0.0.1:{port}"
    for base in bases.values():
        deadline = time.monotonic() + 60
        while Client(base).get("/healthz")[0] != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("a node did not start")
            time.sleep(0.2)

    first = Client(bases["a"])
    first.post("/account/login", {"email": "bench0@example.com", "password": PASSWORD})
    first.post("/forum/new", {"title": "Bench topic for replies", "body": "Replies from the bench go here."})
    topic = int(re.search(r"/forum/t/(\d+)", first.get("/forum/")[1]).group(1))

    timings: dict[str, list[float]] = {"page": [], "search": [], "reply": []}
    errors: dict[str, int] = {"page": 0, "search": 0, "reply": 0}
    posted: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def member(n: int) -> None:
        c = Client(bases["a" if n % 2 == 0 else "b"])
        c.post("/account/login", {"email": f"bench{n}@example.com", "password": PASSWORD})
        rng = random.Random(n)
        while time.monotonic() < stop:
            kind = rng.choices(("page", "search", "reply"), weights=(5, 3, 2))[0]
            started = time.monotonic()
            if kind == "page":
                status, _ = c.get(rng.choice(PAGES))
                ok = status == 200
            elif kind == "search":
                status, _ = c.get(f"/search?q={rng.choice(WORDS)}")
                ok = status == 200
            else:
                word = "w" + uuid.uuid4().hex[:12]
                status, _ = c.post(f"/forum/t/{topic}/reply", {"body": f"Bench reply {word} about sleep."})
                ok = status == 302
                if ok:
                    with lock:
                        posted.append(word)
            with lock:
                timings[kind].append(time.monotonic() - started)
                errors[kind] += 0 if ok else 1

    threads = [threading.Thread(target=member, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 120)

    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    with engine.connect() as conn:
        bodies = [row[0] for row in conn.execute(text("SELECT body_source FROM posts"))]
    engine.dispose()
    stored = {w for w in posted if any(w in b for b in bodies)}
    lost = len(posted) - len(stored)

    # Findable on the other node: post on A, search on B until it appears.
    lags = []
    for _n in range(5):
        word = "f" + uuid.uuid4().hex[:12]
        first.post(f"/forum/t/{topic}/reply", {"body": f"Freshness {word}."})
        posted_at = time.monotonic()
        other = Client(bases["b"])
        while time.monotonic() - posted_at < 30:
            status, body = other.get(f"/search?q={word}&format=json")
            if status == 200 and json.loads(body)["total"] >= 1:
                break
            time.sleep(0.05)
        lags.append(time.monotonic() - posted_at)
    missing_on_b = 0
    for word in rng_sample(posted, 10):
        status, body = Client(bases["b"]).get(f"/search?q={word}&format=json")
        missing_on_b += 0 if status == 200 and json.loads(body)["total"] >= 1 else 1

    rss = [fig for proc in procs for fig in _rss(proc.pid)]
    lines = [
        "## Two nodes, mixed load (PostgreSQL, Redis)",
        "",
        f"Two gunicorn processes (2 workers each) on two ports, {CLIENTS} signed-in members for {SECONDS:.0f} s, "
        "half on each node: pages 50 %, search 30 %, replies 20 %. "
        "`BENCH_TWONODE_SECONDS=20 python -m bench twonode`.",
        "",
        "| request | count | p50 ms | p95 ms | errors |",
        "|---|---|---|---|---|",
    ]
    for kind in ("page", "search", "reply"):
        lines.append(
            f"| {kind} | {len(timings[kind])} | {_pct(timings[kind], 0.5):.0f} | {_pct(timings[kind], 0.95):.0f} | {errors[kind]} |"
        )
    lines += [
        "",
        f'- replies answered "posted": {len(posted)}; posts lost: **{lost}**; '
        f"of 10 sampled, not findable on the other node: {missing_on_b}",
        f"- a post on node A findable by search on node B after: median {statistics.median(lags):.2f} s, longest {max(lags):.2f} s",
        f"- worker resident memory: {min(r for r, _ in rss) / 1024:.0f}-{max(r for r, _ in rss) / 1024:.0f} MiB "
        f"after the load, peak {max(p for _, p in rss) / 1024:.0f} MiB ({len(rss)} workers)",
        "",
    ]
    return "\n".join(lines)


def rng_sample(items: list[str], k: int) -> list[str]:
    return random.Random(0).sample(items, min(k, len(items)))
