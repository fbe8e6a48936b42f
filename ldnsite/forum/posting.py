"""Creating and editing posts: render, sanitise, decide whether to hold, store, outbox, notify.

Why one module: every way a post comes into being (new topic, reply, edit)
must apply the same rules in the same transaction, so the routes only
translate HTTP to these calls and back.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ldnsite.accounts.models import User
from ldnsite.db import utcnow
from ldnsite.forum.models import PENDING, PUBLISHED, Post, PostRevision, Topic
from ldnsite.forum.notifications import notify_reply
from ldnsite.search.outbox import enqueue
from ldnsite.security.sanitize import render_post

_URL = re.compile(r"(https?://|www\.)", re.I)
DUPLICATE_WINDOW = timedelta(seconds=60)


def contains_link(source: str, body_html: str) -> bool:
    """Any http(s) URL in the text, or any link the renderer produced (markdown links, autolinks)."""
    return bool(_URL.search(source)) or "<a " in body_html


def _post_count(session: Session, user_id: int, *statuses: str) -> int:
    query = select(func.count()).select_from(Post).where(Post.author_id == user_id)
    if statuses:
        query = query.where(Post.status.in_(statuses))
    return session.scalar(query) or 0


def should_hold(session: Session, user: User, source: str, body_html: str) -> bool:
    """A new member's first posts, and links from anyone never yet approved, wait for a moderator.

    Why: most forum spam comes from fresh accounts and carries links; a
    moderator's glance at the first few posts stops it before anyone sees it.
    """
    if user.is_moderator:
        return False
    if _post_count(session, user.id) < current_app.config.get("FORUM_HELD_FIRST_POSTS", 3):
        return True
    return contains_link(source, body_html) and _post_count(session, user.id, PUBLISHED) == 0


def recent_duplicate_reply(session: Session, user: User, topic: Topic, source: str) -> Post | None:
    """The same text from the same member in the same topic a moment ago: a double submit."""
    return session.scalars(
        select(Post)
        .where(Post.author_id == user.id, Post.topic_id == topic.id, Post.body_source == source,
               Post.created_at > utcnow() - DUPLICATE_WINDOW)
        .order_by(Post.id.desc())
        .limit(1)
    ).first()


def recent_duplicate_topic(session: Session, user: User, title: str, source: str) -> Topic | None:
    return session.scalars(
        select(Topic)
        .join(Post, Post.topic_id == Topic.id)
        .where(Topic.author_id == user.id, Topic.title == title, Post.body_source == source,
               Topic.created_at > utcnow() - DUPLICATE_WINDOW)
        .order_by(Topic.id.desc())
        .limit(1)
    ).first()


def create_topic(session: Session, user: User, title: str, source: str, page_slug: str | None = None) -> tuple[Topic, Post]:
    body_html = render_post(source)
    held = should_hold(session, user, source, body_html)
    now = utcnow()
    topic = Topic(title=title, author_id=user.id, page_slug=page_slug or None, status=PENDING if held else PUBLISHED,
                  created_at=now, last_activity_at=now)
    post = Post(topic=topic, author_id=user.id, body_source=source, body_html=body_html,
                status=PENDING if held else PUBLISHED, created_at=now)
    session.add_all([topic, post])
    session.flush()
    enqueue(session, "topic", topic.id)
    enqueue(session, "post", post.id)
    return topic, post


def create_reply(session: Session, user: User, topic: Topic, source: str) -> Post:
    body_html = render_post(source)
    held = should_hold(session, user, source, body_html)
    now = utcnow()
    post = Post(topic=topic, author_id=user.id, body_source=source, body_html=body_html,
                status=PENDING if held else PUBLISHED, created_at=now)
    session.add(post)
    if not held:
        topic.last_activity_at = now
    session.flush()
    enqueue(session, "post", post.id)
    if post.status == PUBLISHED:
        notify_reply(session, post)
    return post


def edit_post(session: Session, post: Post, source: str) -> Post:
    """Keep the previous text as a revision, then replace it. Nothing a member wrote is lost."""
    if source == post.body_source:
        return post
    session.add(PostRevision(post_id=post.id, body_source=post.body_source, body_html=post.body_html))
    post.body_source = source
    post.body_html = render_post(source)
    post.edited_at = utcnow()
    session.flush()
    enqueue(session, "post", post.id)
    if is_first_post(session, post):
        enqueue(session, "topic", post.topic_id)
    return post


def is_first_post(session: Session, post: Post) -> bool:
    first = session.scalar(select(func.min(Post.id)).where(Post.topic_id == post.topic_id))
    return first == post.id
