"""Shared pytest fixtures for the search tests (loaded by conftest.py).

Forum rows are written straight to the database together with their outbox
rows, as the forum does, so search tests do not depend on the posting pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from ldnsite.db import get_session
from tests.fixtures_forum import add_post, add_topic

SMALL_SITE = {
    "zorblax.md": """---
title: Zorblax tablets
slug: zorblax
kind: treatment
conditions: [widgetitis]
summary: Zorblax is an invented medicine used only by the search tests.
keywords: [zorblax]
reviewed: 2026-01-01
---
Zorblax tablets are taken once a day. The energy envelope idea is not mentioned here.
""",
    "widgetitis.md": """---
title: Widgetitis
slug: widgetitis
kind: condition
summary: An invented condition for the search tests.
reviewed: 2026-01-02
---
Widgetitis makes widgets ache. Some people try zorblax.
""",
}


@dataclass
class ForumRefs:
    topic_id: int
    post_id: int


@pytest.fixture
def small_site(tmp_path) -> Path:
    """A tiny content folder with a synonyms file, for tests that edit content."""
    folder = tmp_path / "site"
    folder.mkdir()
    for name, text in SMALL_SITE.items():
        (folder / name).write_text(text)
    (folder / "synonyms.txt").write_text("# test synonyms\nzorblax, frobnicate\n")
    return folder


@pytest.fixture
def forum_post(app):
    """Create a topic (or a reply in one) with its outbox rows, and commit: returns ForumRefs."""

    def make(
        body: str = "LDN helped my sleep.",
        title: str = "My LDN experience",
        topic_id: int | None = None,
        status: str = "published",
        topic_status: str = "published",
        at: datetime | None = None,
    ) -> ForumRefs:
        if topic_id is None:
            return ForumRefs(*add_topic(app, None, title, body, topic_status, post_status=status, at=at, index=True))
        return ForumRefs(topic_id, add_post(app, topic_id, None, body, status, at=at, index=True))

    return make


@pytest.fixture
def set_status(app):
    """Change a post's or topic's status; enqueue=False leaves the index deliberately stale."""
    from ldnsite.forum.models import Post, Topic
    from ldnsite.search.outbox import enqueue

    def change(kind: str, ident: int, status: str, enqueue_it: bool = True) -> None:
        with app.app_context():
            session = get_session()
            row = session.get(Post if kind == "post" else Topic, ident)
            row.status = status
            if enqueue_it:
                enqueue(session, kind, ident)
            session.commit()

    return change


@pytest.fixture
def search_json(client):
    def run(q: str, **params) -> dict:
        response = client.get("/search", query_string={"q": q, "format": "json", **params})
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return response.get_json()

    return run


def urls(result: dict) -> list[str]:
    return [r["url"] for r in result["results"]]


NODE_SCRIPT = r"""
import json, os, sys
from sqlalchemy import event
from ldnsite import create_app
from ldnsite.db import get_session, utcnow
from tests.fixtures_forum import add_post, add_topic
from ldnsite.forum.models import Post, Topic
from ldnsite.search.outbox import enqueue
from ldnsite.sanitising.posts import render_post

config, action, word, count = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
app = create_app(config)
if action == "die-after-commit":
    # Killed between the commit and the index update: runs before the search hook.
    # (A savepoint's release is not the commit: the postgres engine writes its rows in one.)
    event.listen(app.extensions["db_sessionmaker"], "after_commit",
                 lambda session: session.in_nested_transaction() or os._exit(0), insert=True)
with app.app_context():
    for n in range(count):
        session = get_session()
        topic = Topic(title=f"{word} topic {n}", created_at=utcnow(), last_activity_at=utcnow())
        session.add(topic)
        session.flush()
        post = Post(topic_id=topic.id, body_source=f"{word} body {n}", body_html=render_post(f"{word} body {n}"))
        session.add(post)
        session.flush()
        enqueue(session, "topic", topic.id)
        enqueue(session, "post", post.id)
        session.commit()
"""


@pytest.fixture
def run_node(app_config):
    """Start another process (another worker or node) on the same database; returns the Popen."""
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent

    def start(action: str, word: str, count: int = 1, **overrides):
        config = {**app_config, **overrides}
        return subprocess.Popen(
            [sys.executable, "-c", NODE_SCRIPT, json.dumps(config), action, word, str(count)],
            cwd=root,
            env={**__import__("os").environ, "PYTHONPATH": str(root)},
        )

    return start


def index_keys(app) -> set[str]:
    """Document keys the engine holds, read directly (to prove a test's index really is stale)."""
    if app.config.get("SEARCH_BACKEND") == "postgres":
        from sqlalchemy import text

        with app.extensions["db_engine"].connect() as conn:
            return set(conn.execute(text("SELECT key FROM search_document")).scalars())
    gen = app.extensions["search_indexer"].store.live()
    with gen.open().searcher() as searcher:
        return {doc["key"] for doc in searcher.documents()}
