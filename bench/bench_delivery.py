"""Reader delivery through a caching proxy: nginx as docs/deploy.md sets it up, in front of gunicorn.

What it answers, in one run:

1. bytes on the wire per page type, uncompressed, gzip and Brotli, against the
   goals (LDN page <= 12 KB compressed, stylesheet <= 6 KB);
2. a mixed workload of anonymous readers and signed-in members (who also post
   replies) and a moderator who removes a post: the cache hit ratio for
   anonymous page views, how long the removed post stayed visible through the
   cache, and the leak checks (a member's page or a response with Set-Cookie
   served from the cache, a public response with Set-Cookie, personal data in
   the cache's files), which must all be 0;
3. the anonymous article as nginx serves it (a page file written by
   `flask content snapshot`, as docs/deploy.md sets up) and through the proxy
   cache, each against nginx handing out the same bytes from a plain file
   (wrk), goal >= 0.8.

Everything listens on 127.0.0.1 and every loop is bounded in time.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import brotli

from bench.bench_pages import _environment, _free_port, _median, _python_load, _start_server, _stop
from bench.proxy import Proxy, Reader

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "/treatments/low-dose-naltrexone"
MIX_SECONDS = int(os.environ.get("BENCH_MIX_SECONDS", "30"))
# Short rounds, many of them, alternating: the median of per-round ratios then cancels most of the
# noise from other work on the machine.
DURATION = int(os.environ.get("BENCH_PROXY_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_PROXY_ROUNDS", "7"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
READERS = int(os.environ.get("BENCH_READERS", "6"))
MEMBER_THREADS = int(os.environ.get("BENCH_MEMBERS", "2"))
PASSWORD = "plum orbit lantern 42"
MARKER = "Zephyrquill"  # a word only the post that the moderator removes contains
TOPICS = 40
SERVED_FROM_CACHE = {"PAGE", "HIT", "STALE", "UPDATING", "REVALIDATED"}  # PAGE: a page file, the app not asked
GOALS = {"ldn": 12 * 1024, "css": 6 * 1024, "ratio": 0.8, "hit": 0.95}
QUERIES = ["ldn", "sleep", "fibromyalgia", "dose", "naltrexone side effects", "me/cfs", "vivid dreams", "pain"]


# ---- the site, its data and the proxy --------------------------------------------------------


def _seed(env: dict[str, str]) -> dict:
    """Schema, 12 members and a moderator, 40 topics of 3 posts, the search index. Returns the ids the run needs."""
    spec = {
        "password": PASSWORD,
        "users": [(f"member{i}@example.com", f"Member {i}", "member") for i in range(12)]
        + [("moderator@example.com", "Mo Derator", "moderator")],
        "topics": TOPICS,
        "marker": MARKER,
    }
    code = r"""
import json, sys
from datetime import timedelta
from werkzeug.security import generate_password_hash
from ldnsite import create_app, models_registry
from ldnsite.db import Base, get_session, utcnow
models_registry.import_all()
app = create_app()
Base.metadata.create_all(app.extensions["db_engine"])
from ldnsite.accounts.models import User
from ldnsite.forum.models import Post, Topic
from ldnsite.sanitising.posts import render_post
spec = json.loads(sys.argv[1])
words = ["sleep", "pain", "dose", "fog", "dreams", "energy", "LDN", "pharmacist", "fibro", "ME/CFS"]
with app.app_context():
    s = get_session()
    digest = generate_password_hash(spec["password"])
    users = [User(email=e, display_name=n, password_hash=digest, role=r, verified_at=utcnow()) for e, n, r in spec["users"]]
    s.add_all(users)
    s.flush()
    start = utcnow() - timedelta(days=60)
    marker_post = None
    for i in range(spec["topics"]):
        when = start + timedelta(hours=6 * i)
        topic = Topic(title=f"Week {i + 1} on LDN: {words[i % 10]} and {words[(i * 3) % 10]}", author_id=users[i % 12].id,
                      status="published", created_at=when, last_activity_at=when)
        s.add(topic)
        for j in range(3):
            body = f"Post {j + 1} about {words[(i + j) % 10]}: what changed for me at {1 + j} mg, and what my GP said."
            if i == 0 and j == 2:
                body += " " + spec["marker"] + " tea is the cure, stop your medicines."
            post = Post(topic=topic, author_id=users[(i + j) % 12].id, body_source=body, body_html=render_post(body),
                        status="published", created_at=when + timedelta(minutes=j))
            s.add(post)
            if i == 0 and j == 2:
                marker_post = post
    s.commit()
    topic_ids = [t.id for t in s.query(Topic).order_by(Topic.id)]
    result = {"topics": topic_ids, "marker_post": marker_post.id, "marker_topic": marker_post.topic_id}
outcome = app.test_cli_runner().invoke(args=["index", "rebuild"])
assert outcome.exit_code == 0, outcome.output
print(json.dumps(result))
"""
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(spec)], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _token(html: bytes) -> str:
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1).decode()


def _sign_in(reader: Reader, email: str) -> None:
    _, html, _ = reader.get("/account/login")
    response, _, _ = reader.post("/account/login", {"csrf_token": _token(html), "email": email, "password": PASSWORD})
    if response.status not in (302, 303) or "session" not in reader.cookies:
        raise RuntimeError(f"sign-in as {email} failed: {response.status}")


# ---- 1. bytes on the wire ----------------------------------------------------------------------


def _bytes_table(port: int, app_port: int, ids: dict, stylesheet: str) -> tuple[list[str], dict[str, int]]:
    pages = [
        ("LDN core page", ARTICLE),
        ("condition page", "/conditions/fibromyalgia"),
        ("treatment list", "/treatments/"),
        ("home", "/"),
        ("forum index", "/forum/"),
        ("forum topic", f"/forum/t/{ids['topics'][1]}"),
        ("search results", "/search?q=sleep"),
        ("Atom feed", "/feed.xml"),
        ("stylesheet (hashed URL)", stylesheet),
    ]
    rows = ["| page type | uncompressed | gzip | Brotli | Brotli body only | served as |", "|---|---:|---:|---:|---:|---|"]
    wire: dict[str, int] = {}
    for label, path in pages:
        sizes = {}
        for encoding in ("", "gzip", "br"):
            reader = Reader(port, encoding)
            response, _, total = reader.get(path)
            reader.close()
            if response.status != 200 or response.headers.get("Content-Encoding") != (encoding or None):
                raise RuntimeError(f"{path} ({encoding or 'identity'}): {response.status}, {response.headers.get('Content-Encoding')}")
            sizes[encoding] = total
            if encoding == "br":
                sizes["body"] = len(reader.last_raw)
        wire[label] = sizes["br"]
        again = Reader(port, "br")
        served_as = again.get(path)[0].headers.get("X-Cache-Status") or "-"  # how a second reader gets it
        again.close()
        shown = path.split("?v=")[0]
        rows.append(
            f"| {label} (`{shown}`) | {sizes['']:,} B | {sizes['gzip']:,} B | {sizes['br']:,} B | {sizes['body']:,} B | {served_as} |"
        )
    member = Reader(port, "gzip, br")
    _sign_in(member, "member1@example.com")
    response, _, total = member.get(ARTICLE)
    rows.append(
        f"| LDN core page for a signed-in member (CSRF token: never compressed) | {total:,} B | – | – | – | "
        f"{response.headers.get('X-Cache-Status')} |"
    )
    member.close()
    direct = Reader(app_port, "br")
    response, _, total = direct.get(ARTICLE)
    direct.close()
    if response.headers.get("Content-Encoding") != "br":
        raise RuntimeError("gunicorn without the proxy did not compress the article")
    rows.append(f"| LDN core page straight from gunicorn, no proxy | – | – | {total:,} B | {len(direct.last_raw):,} B | - |")
    return rows, wire


# ---- 2. the mixed workload ---------------------------------------------------------------------


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    anonymous: Counter = field(default_factory=Counter)  # X-Cache-Status of anonymous page views
    member: Counter = field(default_factory=Counter)  # X-Cache-Status of members' requests
    posts: int = 0
    errors: list[str] = field(default_factory=list)
    leaks: Counter = field(default_factory=Counter)

    def add(self, kind: str, status: str) -> None:
        with self.lock:
            getattr(self, kind)[status or "none"] += 1

    def leak(self, what: str) -> None:
        with self.lock:
            self.leaks[what] += 1


def _anonymous_path(rng: random.Random, topics: list[int]) -> str:
    """Page views as readers make them: the article most, then home, the forum, other pages, a few searches."""
    roll = rng.random()
    if roll < 0.35:
        return ARTICLE
    if roll < 0.47:
        return "/"
    if roll < 0.57:
        return "/forum/"
    if roll < 0.77:  # topics, a few popular ones read most
        return f"/forum/t/{topics[min(int(rng.paretovariate(1.2)) - 1, len(topics) - 1)]}"
    if roll < 0.90:
        return rng.choice(["/conditions/fibromyalgia", "/conditions/me-cfs", "/treatments/", "/conditions/", "/about"])
    return "/search?q=" + rng.choice(QUERIES).replace(" ", "+").replace("/", "%2F")


def _check_shared(tally: Tally, response, page: bytes, member_emails: list[str]) -> None:
    """A response any anonymous reader got: nothing personal in it, no cookie on anything shared."""
    status = response.headers.get("X-Cache-Status", "")
    cacheable = "public" in (response.headers.get("Cache-Control") or "")
    if response.headers.get("Set-Cookie"):
        if status in SERVED_FROM_CACHE:
            tally.leak("Set-Cookie served from the cache")
        if cacheable:
            tally.leak("public response with Set-Cookie")
    if b"/account/logout" in page or b"csrf_token" in page or any(e.encode() in page for e in member_emails):
        tally.leak("personal page served to an anonymous reader")


def _reader_loop(seed: int, port: int, ids: dict, stylesheet: str, deadline: float, tally: Tally, emails: list[str]) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        reader = Reader(port, rng.choice(["gzip, deflate, br", "gzip, deflate, br, zstd", "gzip, deflate", "br, gzip"]))
        views = 1 + int(rng.expovariate(1 / 3))  # one visit: a few pages, then the reader leaves
        try:
            for n in range(views):
                if time.monotonic() >= deadline:
                    break
                response, page, _ = reader.get(_anonymous_path(rng, ids["topics"]))
                tally.add("anonymous", response.headers.get("X-Cache-Status", ""))
                _check_shared(tally, response, page, emails)
                if response.status != 200:
                    tally.errors.append(f"anonymous {response.status}")
                if n == 0:
                    css, _, _ = reader.get(stylesheet)  # a new visitor has no stylesheet yet
                    tally.add("anonymous", css.headers.get("X-Cache-Status", ""))
                if reader.cookies:
                    tally.leak("anonymous reader given a cookie")
        finally:
            reader.close()


def _member_loop(seed: int, port: int, ids: dict, deadline: float, tally: Tally) -> None:
    rng = random.Random(seed)
    turn = seed
    while time.monotonic() < deadline:
        email = f"member{turn % 12}@example.com"
        turn += MEMBER_THREADS
        reader = Reader(port, "gzip, deflate, br")
        try:
            _sign_in(reader, email)
            for _ in range(rng.randint(8, 20)):
                if time.monotonic() >= deadline:
                    break
                path = _anonymous_path(rng, ids["topics"])
                response, page, _ = reader.get(path)
                status = response.headers.get("X-Cache-Status", "")
                tally.add("member", status)
                if status in SERVED_FROM_CACHE or (response.status == 200 and b"<html" in page and b"/account/logout" not in page):
                    tally.leak("member's page served from the cache")
                if path.startswith("/forum/t/") and rng.random() < 0.25 and b'action="/forum/t/' in page:
                    topic_id = path.rsplit("/", 1)[1]
                    posted, _, _ = reader.post(
                        f"/forum/t/{topic_id}/reply",
                        {"csrf_token": _token(page), "body": f"{email.split('@')[0]} here: the same happened to me at 3 mg."},
                    )
                    if posted.status in (302, 303):
                        with tally.lock:
                            tally.posts += 1
                    else:
                        tally.errors.append(f"reply {posted.status}")
            _, page, _ = reader.get("/account/settings")
            reader.post("/account/logout", {"csrf_token": _token(page)})
        finally:
            reader.close()


def _removal(port: int, ids: dict, deadline: float, result: dict) -> None:
    """An anonymous reader keeps the marked topic in the cache; a moderator removes the post; how long is it still seen?"""
    topic = f"/forum/t/{ids['marker_topic']}"
    watcher = Reader(port, "br")
    try:
        _, page, _ = watcher.get(topic)
        if MARKER.encode() not in page:
            raise RuntimeError("the post to remove is not on its topic page")
        time.sleep(min(5, MIX_SECONDS / 6))
        watcher.get(topic)  # a recent copy is in the cache
        moderator = Reader(port, "br")
        _sign_in(moderator, "moderator@example.com")
        _, form, _ = moderator.get(f"/moderation/p/{ids['marker_post']}/remove")
        response, _, _ = moderator.post(
            f"/moderation/p/{ids['marker_post']}/remove", {"csrf_token": _token(form), "reason": "Medical misinformation", "detail": ""}
        )
        removed_at = time.monotonic()
        if response.status not in (302, 303):
            raise RuntimeError(f"removal answered {response.status}")
        moderator.close()
        while time.monotonic() < deadline + 40:
            _, page, _ = watcher.get(topic)
            if MARKER.encode() not in page:
                result["seconds"] = time.monotonic() - removed_at
                return
            time.sleep(0.25)
        result["seconds"] = None
    except Exception as exc:  # noqa: BLE001  (reported in the table, the other figures still count)
        result["error"] = repr(exc)
    finally:
        watcher.close()


def _scan_cache(proxy: Proxy, emails: list[str]) -> tuple[int, Counter]:
    """Open every file nginx stored: none may hold a cookie, a private page, a token or an address."""
    found: Counter = Counter()
    files = proxy.cached_files()
    for path in files:
        raw = path.read_bytes()
        start = raw.find(b"\nHTTP/")
        head, _, body = raw[start + 1 :].partition(b"\r\n\r\n")
        lowered = head.lower()
        if b"\nset-cookie:" in lowered:
            found["stored with Set-Cookie"] += 1
        if b"private" in lowered or b"no-store" in lowered:
            found["stored although private or no-store"] += 1
        try:
            if b"content-encoding: br" in lowered:
                body = brotli.decompress(body)
            elif b"content-encoding: gzip" in lowered:
                body = gzip.decompress(body)
        except Exception:  # noqa: BLE001  (counted: an entry that cannot be checked is not passed as clean)
            found["stored entry that could not be decoded"] += 1
            continue
        if b"csrf_token" in body or b"/account/logout" in body or any(e.encode() in body for e in emails):
            found["stored with personal data or a token"] += 1
    pages = [p for p in proxy.pages_dir.rglob("*.html") if p.is_file()]
    for path in pages:
        body = path.read_bytes()
        encoding = path.relative_to(proxy.pages_dir).parts[0]
        body = brotli.decompress(body) if encoding == "br" else gzip.decompress(body) if encoding == "gzip" else body
        if b"csrf_token" in body or b"/account/logout" in body or any(e.encode() in body for e in emails):
            found["stored with personal data or a token"] += 1
        if b"what my GP said" in body:  # every seeded post says it: forum posts must never be in a page file
            found["page file showing forum posts"] += 1
    return len(files) + len(pages), found


def _snapshot(env: dict[str, str], directory: Path) -> str:
    """`flask content snapshot`, as the jobs timer in docs/deploy.md runs it; returns its summary line."""
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "content", "snapshot", str(directory)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return out.strip().splitlines()[-1]


# ---- 3. proxied article vs nginx static file ---------------------------------------------------


def _wrk(url: str, seconds: int, encoding: str) -> tuple[float, int]:
    """(requests/s, requests) from wrk; the Python load generator when wrk is missing (identity only)."""
    if shutil.which("wrk") is None:
        rate = _python_load(url, seconds)
        return rate, int(rate * seconds)
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s"]
    if encoding:
        cmd += ["-H", f"Accept-Encoding: {encoding}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses under load")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), int(re.search(r"(\d+) requests in", out).group(1))


def _measure(proxy: Proxy, url: str, seconds: int, encoding: str) -> tuple[float, float]:
    """(wall-clock requests/s, nginx worker CPU microseconds per request)."""
    before = proxy.worker_cpu_seconds()
    rate, count = _wrk(url, seconds, encoding)
    return rate, (proxy.worker_cpu_seconds() - before) * 1e6 / max(count, 1)


CACHED_ARTICLE = ARTICLE + "?from=cache"  # a query string: nginx skips the page files, the proxy cache answers


def _rates(proxy: Proxy) -> tuple[list[str], dict[str, float]]:
    """Per encoding, the article as a page file and from the proxy cache, each against the same bytes as a plain file."""
    base = f"http://127.0.0.1:{proxy.port}"
    rows = [
        "| encoding | served as | | article | nginx static file, same bytes | ratio (median of rounds) |",
        "|---|---|---|---:|---:|---:|",
    ]
    encodings = ["", "br"] if shutil.which("wrk") else [""]
    ratios: dict[str, float] = {}
    detail = []
    for encoding in encodings:
        targets = {}
        for how, path in (("page file", ARTICLE), ("proxy cache", CACHED_ARTICLE)):
            raw = Reader(proxy.port, encoding)
            raw.get(path)
            response, _, _ = raw.get(path)  # the second time: from the cache
            raw.close()
            name = f"{how.replace(' ', '-')}.{encoding or 'identity'}"
            (proxy.static_root / name).write_bytes(raw.last_raw)
            static = base + ("/nginx-static-br/" if encoding else "/nginx-static/") + name
            targets[how] = (base + path, static, response.headers.get("X-Cache-Status"), len(raw.last_raw))
        wall: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        for url, static, _, _ in targets.values():  # warm up
            _wrk(url, 1, encoding)
            _wrk(static, 1, encoding)
        for _ in range(ROUNDS):
            for how, (url, static, _, _) in targets.items():
                for side, target in (("site", url), ("static", static)):
                    rate, micros = _measure(proxy, target, DURATION, encoding)
                    wall.setdefault((how, side), []).append(rate)
                    cpu.setdefault((how, side), []).append(micros)
        for how, (_, _, status, size) in targets.items():
            site_cpu, static_cpu = cpu[(how, "site")], cpu[(how, "static")]
            site_wall, static_wall = wall[(how, "site")], wall[(how, "static")]
            capacity = _median([st / si for si, st in zip(site_cpu, static_cpu, strict=True)])
            wall_ratio = _median([si / st for si, st in zip(site_wall, static_wall, strict=True)])
            ratios[f"{encoding or 'identity'} {how}"] = capacity
            ratios[f"{encoding or 'identity'} {how} wall"] = wall_ratio
            rows.append(
                f"| {encoding or 'identity'} ({size:,} B body) | {how} ({status}) | nginx CPU per request | "
                f"{_median(site_cpu):.1f} µs (= {1e6 / _median(site_cpu):,.0f} req/s a core) | {_median(static_cpu):.1f} µs "
                f"(= {1e6 / _median(static_cpu):,.0f} req/s a core) | **{capacity:.2f}** |"
            )
            rows.append(
                f"| | | wall clock, shared machine | {_median(site_wall):,.0f} req/s | {_median(static_wall):,.0f} req/s "
                f"| {wall_ratio:.2f} |"
            )
            detail.append(
                f"{encoding or 'identity'} {how}: " + "; ".join(f"{a:,.0f}/{b:,.0f}" for a, b in zip(site_wall, static_wall, strict=True))
            )
    load = f"wrk -t1 -c{CONNECTIONS} -d{DURATION}s" if shutil.which("wrk") else "4 Python processes (wrk not installed)"
    rows += [
        "",
        f"Load: {load}, {ROUNDS} alternating rounds after a 1 s warm-up, one nginx worker, all on this machine. "
        f"The proxy-cache rows ask for `{CACHED_ARTICLE}`. Wall-clock rounds (article/static): " + " | ".join(detail) + ".",
    ]
    return rows, ratios


# ---- the report --------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "meets" if ok else "**misses**"


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="ldn-bench-delivery-") as tmp:
        env = _environment(Path(tmp))
        env.update({"FLASK_PROXY_COUNT": "1", "FLASK_FORUM_HELD_FIRST_POSTS": "0"})
        ids = _seed(env)
        app_port = _free_port()
        server = _start_server(env, app_port)
        proxy = Proxy(app_port)
        try:
            proxy.start()
            snapshot_summary = _snapshot(env, proxy.pages_dir)
            reader = Reader(proxy.port)
            _, page, _ = reader.get(ARTICLE)
            reader.close()
            stylesheet = re.search(rb'href="(/static/css/site\.css\?v=[0-9a-f]+)"', page).group(1).decode()
            bytes_rows, wire = _bytes_table(proxy.port, app_port, ids, stylesheet)

            emails = [f"member{i}@example.com" for i in range(12)] + ["moderator@example.com"]
            tally, removal = Tally(), {}
            deadline = time.monotonic() + MIX_SECONDS
            threads = [
                threading.Thread(target=_reader_loop, args=(i, proxy.port, ids, stylesheet, deadline, tally, emails))
                for i in range(READERS)
            ]
            threads += [threading.Thread(target=_member_loop, args=(i, proxy.port, ids, deadline, tally)) for i in range(MEMBER_THREADS)]
            threads.append(threading.Thread(target=_removal, args=(proxy.port, ids, deadline, removal)))
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(MIX_SECONDS + 90)
            elapsed = time.monotonic() - started
            stored, cache_leaks = _scan_cache(proxy, emails)
            rate_rows, ratios = _rates(proxy)
        finally:
            proxy.stop()
            _stop(server)

    anon_total = sum(tally.anonymous.values())
    from_cache = sum(tally.anonymous[s] for s in ("PAGE", "HIT", "STALE", "UPDATING"))
    revalidated = tally.anonymous["REVALIDATED"]
    hit = from_cache / anon_total if anon_total else 0.0
    member_total = sum(tally.member.values())
    leaks = tally.leaks + cache_leaks
    personal = (
        leaks["member's page served from the cache"]
        + leaks["personal page served to an anonymous reader"]
        + leaks["stored with personal data or a token"]
        + leaks["stored although private or no-store"]
    )
    unreadable = leaks["stored entry that could not be decoded"]
    cookies = (
        leaks["Set-Cookie served from the cache"]
        + leaks["public response with Set-Cookie"]
        + leaks["stored with Set-Cookie"]
        + leaks["anonymous reader given a cookie"]
    )
    seconds = removal.get("seconds")
    removal_text = f"{seconds:.1f} s" if seconds is not None else f"not gone within the run ({removal.get('error', '')})"
    ldn, css = wire["LDN core page"], wire["stylesheet (hashed URL)"]
    ratio = ratios["identity page file"]

    lines = [
        "## Delivery: compression and a caching proxy (nginx as docs/deploy.md sets it up, gunicorn -w 2)",
        "",
        "### Bytes on the wire per page type (status line, headers and body, through the proxy)",
        "",
        *bytes_rows,
        "",
        f"### Mixed workload: {READERS} anonymous readers, {MEMBER_THREADS} signed-in members in turn, one moderator, {elapsed:.0f} s",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| anonymous requests (page views and first-visit stylesheets) | {anon_total:,} ({anon_total / elapsed:,.0f}/s) |",
        f"| served without the app (PAGE file, cache HIT, STALE, UPDATING) | {from_cache:,} ({hit:.1%}) |",
        f"| revalidated with the app (304, body from the cache) | {revalidated:,} |",
        "| anonymous cache statuses | " + ", ".join(f"{k} {v:,}" for k, v in tally.anonymous.most_common()) + " |",
        f"| member requests (all BYPASS expected) | {member_total:,}: "
        + ", ".join(f"{k} {v:,}" for k, v in tally.member.most_common())
        + " |",
        f"| replies posted by members during the run | {tally.posts} |",
        f"| removed post still seen through the cache after the moderator's click | {removal_text} (bound: 30 s) |",
        f"| errors | {len(tally.errors)}{': ' + ', '.join(sorted(set(tally.errors))[:5]) if tally.errors else ''} |",
        f"| page files (`{snapshot_summary}`) and cache files at the end, each opened and checked | {stored} |",
        f"| personal pages served from the cache or stored in it | **{personal}** |",
        "| responses with Set-Cookie served from or stored in the cache, public responses with Set-Cookie, "
        f"cookies given to anonymous readers | **{cookies}** |",
    ]
    if leaks:
        lines.append("| what was found | " + ", ".join(f"{k}: {v}" for k, v in leaks.items()) + " |")
    lines += [
        "",
        "### Anonymous article (page file, proxy cache) vs nginx serving a static file",
        "",
        *rate_rows,
        "",
        "### Against the goals",
        "",
        "| goal | measured | |",
        "|---|---|---|",
        f"| LDN core page <= 12 KB compressed | {ldn:,} B (Brotli, headers included) | {_verdict(ldn <= GOALS['ldn'])} |",
        f"| stylesheet <= 6 KB compressed | {css:,} B | {_verdict(css <= GOALS['css'])} |",
        f"| proxied article >= 0.8x nginx static (nginx CPU per request, identity, page file) | {ratio:.2f}x "
        f"(wall clock {ratios['identity page file wall']:.2f}x; from the proxy cache {ratios['identity proxy cache']:.2f}x) "
        f"| {_verdict(ratio >= GOALS['ratio'])} |",
        f"| hit ratio >= 95% anonymous | {hit:.1%} | {_verdict(hit >= GOALS['hit'])} |",
        f"| 0 personal pages from the cache | {personal} | {_verdict(personal == 0)} |",
        f"| 0 cacheable responses with Set-Cookie | {cookies} | {_verdict(cookies == 0)} |",
        "",
        "Command: `make bench` (or `.venv/bin/python -m bench delivery`); `BENCH_MIX_SECONDS`, `BENCH_READERS`, "
        "`BENCH_MEMBERS`, `BENCH_PROXY_SECONDS`, `BENCH_PROXY_ROUNDS` change the shape of the run.",
    ]
    if personal or cookies or unreadable:
        raise RuntimeError("\n".join(lines) + "\n\nA personal page or a cookie went through the shared cache.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(run())
