"""Shared pytest fixtures for the moderation tests (loaded by conftest.py).

Topics, posts and reports are made directly through the models, so the
moderation tests arrange exactly the state they need without depending on
the forum's posting rules (holding new members' posts, rate limits).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from ldnsite.db import get_session, utcnow
from tests.conftest import (
    csrf_from,
    sign_in,
)
from tests.fixtures_forum import add_post, add_topic


def token(client, url: str = "/") -> str:
    """A CSRF token for this client's session, taken from a page that has a form.

    The token stays valid for the whole session, so it is fetched once per client.
    """
    cached = getattr(client, "_moderation_csrf", None)
    if cached is None:
        cached = csrf_from(client.get(url).get_data(as_text=True))
        client._moderation_csrf = cached
    return cached


@dataclass
class Board:
    """Makes forum content straight in the database (queued for search, as the forum does) and reads it back."""

    app: object
    made: list = field(default_factory=list)

    def topic(
        self,
        author,
        title: str = "Starting LDN at 1.5 mg",
        body: str = "I started LDN last week.",
        status: str = "published",
        post_status: str | None = None,
    ):
        return add_topic(self.app, author, title, body, status, post_status, index=True)

    def reply(self, topic_id: int, author, body: str = "Same for me: vivid dreams for a week.", status: str = "published") -> int:
        return add_post(self.app, topic_id, author, body, status, index=True)

    def report(self, post_id: int, reporter, reason: str = "This gives a dangerous dose") -> int:
        from ldnsite.forum.models import Report

        with self.app.app_context():
            session = get_session()
            report = Report(post_id=post_id, reporter_id=reporter.id, reason=reason, created_at=utcnow())
            session.add(report)
            session.commit()
            return report.id

    def post(self, post_id: int):
        from ldnsite.forum.models import Post

        with self.app.app_context():
            session = get_session()
            post = session.get(Post, post_id)
            session.expunge(post)
            return post

    def topic_row(self, topic_id: int):
        from ldnsite.forum.models import Topic

        with self.app.app_context():
            session = get_session()
            topic = session.get(Topic, topic_id)
            session.expunge(topic)
            return topic

    def log(self, **where) -> list:
        """Log entries matching the given column values, oldest first."""
        from ldnsite.moderation.models import ModerationLog

        with self.app.app_context():
            session = get_session()
            query = select(ModerationLog).order_by(ModerationLog.id)
            for name, value in where.items():
                query = query.where(getattr(ModerationLog, name) == value)
            rows = list(session.scalars(query))
            for row in rows:
                session.expunge(row)
            return rows

    def outbox(self, kind: str, doc_id: int) -> int:
        from ldnsite.search.models import SearchOutbox

        with self.app.app_context():
            return (
                get_session().scalar(
                    select(func.count()).select_from(SearchOutbox).where(SearchOutbox.doc_kind == kind, SearchOutbox.doc_id == str(doc_id))
                )
                or 0
            )


@pytest.fixture
def board(app) -> Board:
    return Board(app)


@pytest.fixture
def member(make_user):
    return make_user("member@example.com", "Sam Member")


@pytest.fixture
def moderator(make_user):
    return make_user("mod@example.com", "Maya Moderator", role="moderator")


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.com", "Ada Admin", role="admin")


@pytest.fixture
def mod_client(app, moderator):
    """A client signed in as the moderator."""
    client = app.test_client()
    sign_in(client, moderator)
    return client


@pytest.fixture
def member_client(app, member):
    client = app.test_client()
    sign_in(client, member)
    return client
