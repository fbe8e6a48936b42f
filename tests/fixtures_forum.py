"""Shared pytest fixtures for the forum tests (loaded by conftest.py).

Members are signed in by writing the Flask-Login session directly (the
approach in the team conventions), so forum tests do not depend on the
sign-in pages; topics and posts can be arranged straight in the database.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from ldnsite.db import get_session, utcnow
from tests.conftest import sign_in  # noqa: F401  (re-exported for the capability's tests)


def add_topic(
    app,
    author,
    title: str,
    body: str,
    status: str = "published",
    post_status: str | None = None,
    page_slug: str | None = None,
    locked: bool = False,
    at: datetime | None = None,
    index: bool = False,
) -> tuple[int, int]:
    """Write a topic and its first post straight to the database, as the forum would; returns (topic_id, post_id).

    The one way the tests make forum content (`make_topic`, `board.topic` and `forum_post` call it).
    The author (if any) follows the topic, as on the forum. `index` also queues both for the search
    index, as the forum does; tests about other things leave the index alone.
    """
    from ldnsite.forum.models import Post, Topic, TopicFollow
    from ldnsite.sanitising.posts import render_post
    from ldnsite.search.outbox import enqueue

    with app.app_context():
        session = get_session()
        when = at or utcnow()
        author_id = author.id if author else None
        topic = Topic(
            title=title,
            author_id=author_id,
            page_slug=page_slug,
            status=status,
            locked_at=when if locked else None,
            created_at=when,
            last_activity_at=when,
        )
        post = Post(
            topic=topic, author_id=author_id, body_source=body, body_html=render_post(body), status=post_status or status, created_at=when
        )
        session.add_all([topic, post])
        session.flush()
        if author_id is not None:
            session.add(TopicFollow(user_id=author_id, topic_id=topic.id))
        if index:
            enqueue(session, "topic", topic.id)
            enqueue(session, "post", post.id)
        session.commit()
        return topic.id, post.id


def add_post(
    app,
    topic_id: int,
    author,
    body: str,
    status: str = "published",
    at: datetime | None = None,
    removal_reason: str | None = None,
    index: bool = False,
) -> int:
    """Write a reply straight to the database, as the forum would (a published one moves its topic up); returns its id."""
    from ldnsite.forum.models import Post, Topic
    from ldnsite.sanitising.posts import render_post
    from ldnsite.search.outbox import enqueue

    with app.app_context():
        session = get_session()
        when = at or utcnow()
        post = Post(
            topic_id=topic_id,
            author_id=author.id if author else None,
            body_source=body,
            body_html=render_post(body),
            status=status,
            created_at=when,
            removed_at=when if status == "removed" else None,
            removal_reason=removal_reason,
        )
        session.add(post)
        if status == "published":
            session.get(Topic, topic_id).last_activity_at = when
        session.flush()
        if index:
            enqueue(session, "post", post.id)
        session.commit()
        return post.id


@pytest.fixture
def make_topic(app):
    """Create a topic with its first post; returns (topic_id, post_id)."""

    def make(
        author,
        title: str = "Starting LDN at 1.5 mg",
        body: str = "How did the first weeks go for you?",
        status: str = "published",
        page_slug: str | None = None,
        locked: bool = False,
        at: datetime | None = None,
    ) -> tuple[int, int]:
        return add_topic(app, author, title, body, status, page_slug=page_slug, locked=locked, at=at)

    return make


@pytest.fixture
def make_post(app):
    """Add a post to a topic directly; returns its id."""

    def make(
        topic_id: int,
        author,
        body: str = "A reply.",
        status: str = "published",
        at: datetime | None = None,
        removal_reason: str | None = None,
    ) -> int:
        return add_post(app, topic_id, author, body, status, at=at, removal_reason=removal_reason)

    return make


@pytest.fixture
def make_member(make_user, make_topic, make_post):
    """A member who already has approved posts, so new posts are published at once."""

    def make(email: str = "trusted@example.com", name: str = "Trusted", **kwargs):
        user = make_user(email=email, name=name, **kwargs)
        topic_id, _ = make_topic(user, title=f"Introductions from {name}")
        make_post(topic_id, user, "Second post.")
        make_post(topic_id, user, "Third post.")
        return user

    return make
