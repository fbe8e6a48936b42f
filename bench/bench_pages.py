"""Article page vs static bytes, both through the same gunicorn server with 2 workers.

Why this comparison: the article is served from the anonymous page cache, so
it should cost about as much as handing out a file. The ratio of the two
request rates (goal >= 0.8) shows how much the page path adds on top of
Flask's own static file serving, independently of how fast the machine is.

Load comes from wrk (C, one thread) when installed, otherwise from a few
Python processes with keep-alive connections (BENCH_LOADGEN=python forces
these). Either way the load generator
shares the machine with the server, so absolute figures are lower than on a
dedicated box; the ratio is the figure to compare.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "/treatments/low-dose-naltrexone"
DURATION = int(os.environ.get("BENCH_DURATION", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
GOAL = 0.8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "FLASK_SECRET_KEY": "bench-secret-key",
            "FLASK_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "FLASK_INDEX_DIR": str(tmp / "index"),
            "FLASK_MAIL_URL": f"file:{tmp / 'outbox'}",
            "FLASK_RATELIMIT_ENABLED": "false",
            "FLASK_SITE_URL": "http://127.0.0.1:5000",
        }
    )
    return env


def _prepare_database(env: dict[str, str]) -> None:
    """An empty schema, so pages that look things up (latest topics, health) answer as in production."""
    code = (
        "from ldnsite import create_app, models_registry\n"
        "from ldnsite.db import Base\n"
        "models_registry.import_all()\n"
        "app = create_app()\n"
        "Base.metadata.create_all(app.extensions['db_engine'])\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


def _start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    cmd = [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:app"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    _stop(proc)
    raise RuntimeError("gunicorn did not start within 30 s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read(), dict(r.headers)


# ---- load generators --------------------------------------------------------------------


def _wrk(url: str, seconds: int) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses under load")
    assert match, out
    return float(match.group(1))


def _python_worker(host: str, port: int, path: str, seconds: float, out: multiprocessing.Queue) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    count, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status}")
        count += 1
    conn.close()
    out.put(count)


def _python_load(url: str, seconds: int) -> float:
    rest = url.split("://", 1)[1]
    hostport, path = rest.split("/", 1)
    host, port = hostport.split(":")
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_python_worker, args=(host, int(port), "/" + path, seconds, queue))
        for _ in range(min(CONNECTIONS, 4))
    ]
    for w in workers:
        w.start()
    total = sum(queue.get(timeout=seconds + 30) for _ in workers)
    for w in workers:
        w.join()
    return total / seconds


def load_generator():
    if shutil.which("wrk") and os.environ.get("BENCH_LOADGEN", "wrk") == "wrk":
        return "wrk", _wrk, f"wrk -t1 -c{CONNECTIONS} -d{DURATION}s URL"
    return "python", _python_load, f"{min(CONNECTIONS, 4)} Python processes, keep-alive, {DURATION} s"


# ---- the benchmark ------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def run() -> str:
    name, measure, described = load_generator()
    with tempfile.TemporaryDirectory(prefix="ldn-bench-") as tmp:
        env = _environment(Path(tmp))
        _prepare_database(env)
        port = _free_port()
        server = _start_server(env, port)
        try:
            base = f"http://127.0.0.1:{port}"
            status, body, _ = _get(base + ARTICLE)
            assert status == 200 and b"<h1" in body, "the article page did not render"
            match = re.search(rb'href="(/static/css/site\.css\?v=[0-9a-f]+)"', body)
            assert match, "no hashed stylesheet link on the article page"
            static_path = match.group(1).decode()
            _, css, _ = _get(base + static_path)
            urls = {"article": base + ARTICLE, "static": base + static_path}
            for url in urls.values():  # warm up both workers' caches
                measure(url, 2)
            results: dict[str, list[float]] = {"article": [], "static": []}
            for _ in range(ROUNDS):  # alternate, so a noisy neighbour hurts both alike
                for key, url in urls.items():
                    results[key].append(measure(url, DURATION))
        finally:
            _stop(server)
    article, static = (_median(v) for v in (results["article"], results["static"]))
    # Each round measures the two endpoints back to back, so the median of the
    # per-round ratios cancels out load from other processes better than a ratio of medians.
    ratio = _median([a / s for a, s in zip(results["article"], results["static"], strict=True)])
    verdict = "meets" if ratio >= GOAL else "misses"
    return "\n".join(
        [
            "## Pages: article vs static bytes (gunicorn, 2 workers)",
            "",
            f"| endpoint | response size | requests/s (median of {ROUNDS}) | all rounds |",
            "|---|---|---|---|",
            f"| `{ARTICLE}` (anonymous, page cache) | {len(body):,} B | {article:,.0f} | "
            + ", ".join(f"{x:,.0f}" for x in results["article"])
            + " |",
            f"| `{static_path}` (Flask static file) | {len(css):,} B | {static:,.0f} | "
            + ", ".join(f"{x:,.0f}" for x in results["static"])
            + " |",
            "",
            f"**Ratio article / static: {ratio:.2f}** (median of the per-round ratios; {verdict} the goal of >= {GOAL}).",
            "",
            f"Server: `gunicorn -w 2 -b 127.0.0.1:PORT app:app` with FLASK_RATELIMIT_ENABLED=false and a temporary "
            f"SQLite database. Load: {name} ({described}), {ROUNDS} alternating rounds of {DURATION} s after a warm-up. "
            "Command: `make bench` (or `.venv/bin/python -m bench pages`).",
        ]
    )


if __name__ == "__main__":
    print(run())
