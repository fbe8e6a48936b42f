"""Posts per second for creating a reply end to end through the Flask test client.

What one post costs here: the CSRF-checked form is validated, the Markdown is
rendered and sanitised, the post and its search-outbox row are stored, and a
reply notification is queued for the topic's author, all in one SQLite
transaction (a file in a temporary directory, WAL mode, as in the embedded
default). No HTTP server or network is involved, so the figure is the
application's own cost per post.

Two scenarios: with search indexing and mail delivery deferred (what a
request must do), and with both running right after the commit as in the
default configuration (what a member waits for).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

POSTS = int(os.environ.get("BENCH_POSTS", "300"))
WARMUP = 20

BODY = (
    "Week {n}: I went up to **{dose} mg** at night. Sleep is better and the *morning stiffness* is shorter.\n\n"
    "- fewer flares\n- vivid dreams for a few days\n\n"
    "> Start low, go slow.\n\nThe trial I mentioned: https://pubmed.ncbi.nlm.nih.gov/{n}/"
)


def _app(tmp: Path, on_commit: bool):
    from werkzeug.security import generate_password_hash

    from ldnsite import create_app, models_registry
    from ldnsite.accounts.models import User
    from ldnsite.db import Base, get_session, utcnow
    from ldnsite.forum.models import Post, Topic
    from ldnsite.sanitising.posts import render_post

    models_registry.import_all()
    app = create_app(
        {
            "TESTING": False,
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "INDEX_DIR": str(tmp / "index"),
            "MAIL_URL": f"file:{tmp / 'outbox'}",
            "RATELIMIT_ENABLED": False,
            "SITE_URL": "http://localhost",
            "SEARCH_INDEX_ON_COMMIT": on_commit,
            "MAIL_DELIVER_ON_COMMIT": on_commit,
        }
    )
    Base.metadata.create_all(app.extensions["db_engine"])
    with app.app_context():
        session = get_session()
        digest = generate_password_hash("bench password")
        author = User(email="author@example.com", display_name="Author", password_hash=digest, verified_at=utcnow())
        replier = User(email="replier@example.com", display_name="Replier", password_hash=digest, verified_at=utcnow())
        session.add_all([author, replier])
        session.flush()
        topic = Topic(title="How LDN went for me", author_id=author.id)
        session.add(topic)
        session.flush()
        for n in range(4):  # earlier posts, so the replier's posts are published at once
            session.add(
                Post(
                    topic_id=topic.id,
                    author_id=replier.id if n else author.id,
                    body_source=f"Earlier post {n}",
                    body_html=render_post(f"Earlier post {n}"),
                )
            )
        session.commit()
        return app, topic.id, replier.id, replier.session_version


def _measure(on_commit: bool) -> tuple[int, float, list[float]]:
    import re

    with tempfile.TemporaryDirectory(prefix="bench-posts-") as tmpdir:
        app, topic_id, user_id, version = _app(Path(tmpdir), on_commit)
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = f"{user_id}:{version}"
            sess["_fresh"] = True
        page = client.get(f"/forum/t/{topic_id}/reply").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        url = f"/forum/t/{topic_id}/reply"
        timings = []
        started = None
        for n in range(WARMUP + POSTS):
            if n == WARMUP:
                started = time.perf_counter()
            t0 = time.perf_counter()
            response = client.post(url, data={"csrf_token": token, "body": BODY.format(n=n, dose=1 + n % 4)})
            elapsed = time.perf_counter() - t0
            if response.status_code != 302:
                raise RuntimeError(f"post {n} failed with HTTP {response.status_code}")
            if n >= WARMUP:
                timings.append(elapsed)
        total = time.perf_counter() - started
        app.extensions["db_engine"].dispose()
        return POSTS, total, timings


def _row(label: str, posts: int, total: float, timings: list[float]) -> str:
    ms = sorted(t * 1000 for t in timings)
    p95 = statistics.quantiles(ms, n=20)[-1]
    return f"| {label} | {posts} | {posts / total:.0f} | {statistics.median(ms):.1f} | {p95:.1f} |"


def run() -> str:
    deferred = _measure(on_commit=False)
    immediate = _measure(on_commit=True)
    return "\n".join(
        [
            "## Forum posts",
            "",
            "Creating a reply end to end through the Flask test client: CSRF-checked form, Markdown render and sanitise, "
            "store, search outbox row and queued reply notification, in one SQLite transaction "
            f"({POSTS} posts after {WARMUP} warm-up posts, one member, sequential).",
            "",
            "| scenario | posts | posts/s | p50 ms | p95 ms |",
            "|---|---:|---:|---:|---:|",
            _row("index and mail deferred (`flask index sync`, `flask mail flush`)", *deferred),
            _row("index update and mail delivery right after commit (default)", *immediate),
            "",
            "Command: `make bench` (or `.venv/bin/python -m bench posts`; `BENCH_POSTS=N` to change the count).",
        ]
    )


if __name__ == "__main__":
    print(run())
