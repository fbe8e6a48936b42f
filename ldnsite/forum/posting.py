"""Creating and editing posts: render, sanitise, decide whether to hold, store, outbox, notify.

Why one module: every way a post comes into being (new topic, reply, edit)
must apply the same rules in the same transaction, so the routes only
translate HTTP to these calls and back.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ldnsite.accounts.models import User
from ldnsite.db import utcnow
from ldnsite.forum import crisis, screening
from ldnsite.forum.changes import changed
from ldnsite.forum.models import (
    PENDING,
    PUBLISHED,
    REMOVED,
    WITHDRAWN,
    Post,
    PostRevision,
    Report,
    Topic,
    TopicFollow,
)
from ldnsite.forum.notifications import notify_reply
from ldnsite.mail.mailer import cancel
from ldnsite.sanitising.posts import render_post

_URL = re.compile(r"(https?://|www\.)", re.I)
DUPLICATE_WINDOW = timedelta(seconds=60)


def contains_link(source: str, body_html: str) -> bool:
    """Any http(s) URL in the text, or any link the renderer produced (markdown links, autolinks)."""
    return bool(_URL.search(source)) or "<a " in body_html


def trust(session: Session, user_id: int) -> int:
    """Approved (published) posts, less removed ones.

    Why not every post: three throwaway posts, held or removed, must not earn
    anyone the right to post links unreviewed. Each removal costs one approval.
    """
    rows = session.execute(
        select(Post.status, func.count()).where(Post.author_id == user_id, Post.status.in_((PUBLISHED, REMOVED))).group_by(Post.status)
    ).all()
    counts = dict(rows)
    return counts.get(PUBLISHED, 0) - counts.get(REMOVED, 0)


def under_review(session: Session, user: User) -> bool:
    """A member whose posts a moderator still checks: fewer than FORUM_HELD_FIRST_POSTS net approved posts."""
    if user.is_moderator:
        return False
    return trust(session, user.id) < current_app.config["FORUM_HELD_FIRST_POSTS"]


def should_hold(session: Session, user: User, source: str, body_html: str) -> bool:
    """A member's posts wait for a moderator until enough of them were approved; links need at least one.

    Why: most forum spam comes from fresh accounts and carries links; a
    moderator's glance at the first few posts stops it before anyone sees it.
    """
    if user.is_moderator:
        return False
    if under_review(session, user):
        return True
    return contains_link(source, body_html) and trust(session, user.id) <= 0


def recent_duplicate_reply(session: Session, user: User, topic: Topic, source: str) -> Post | None:
    """The same text from the same member in the same topic a moment ago: a double submit."""
    return session.scalars(
        select(Post)
        .where(
            Post.author_id == user.id, Post.topic_id == topic.id, Post.body_source == source, Post.created_at > utcnow() - DUPLICATE_WINDOW
        )
        .order_by(Post.id.desc())
        .limit(1)
    ).first()


def recent_duplicate_topic(session: Session, user: User, title: str, source: str) -> Topic | None:
    return session.scalars(
        select(Topic)
        .join(Post, Post.topic_id == Topic.id)
        .where(Topic.author_id == user.id, Topic.title == title, Post.body_source == source, Topic.created_at > utcnow() - DUPLICATE_WINDOW)
        .order_by(Topic.id.desc())
        .limit(1)
    ).first()


def submission_key(user: User, target: str, nonce: str | None, csrf_token: str | None, *parts: str) -> str:
    """One key per form submission: the form's nonce, or, from a client that sends none, its CSRF token and text.

    Why: the same form sent twice at the same moment (a double click, a
    resent request) passes every check before either is saved; the unique
    key on posts lets the database keep exactly one of them.
    """
    material = [str(user.id), target, (nonce or "").strip()[:100]]
    if not material[2]:
        material += [csrf_token or "", *parts]
    return hashlib.sha256("\x1f".join(material).encode()).hexdigest()


def post_by_key(session: Session, key: str) -> Post | None:
    return session.scalar(select(Post).where(Post.submission_key == key))


def create_topic(
    session: Session, user: User, title: str, source: str, page_slug: str | None = None, key: str | None = None
) -> tuple[Topic, Post]:
    match = _watched(session, user, title, source)
    body_html = render_post(source)
    held = should_hold(session, user, source, body_html) or (match is not None and match.action == screening.HOLD)
    now = utcnow()
    topic = Topic(
        title=title,
        author_id=user.id,
        page_slug=page_slug or None,
        status=PENDING if held else PUBLISHED,
        created_at=now,
        last_activity_at=now,
    )
    post = Post(
        topic=topic,
        author_id=user.id,
        body_source=source,
        body_html=body_html,
        status=PENDING if held else PUBLISHED,
        created_at=now,
        submission_key=key,
        urgent_at=now if crisis.suggests_risk(title, source) else None,
        flag_reason=match.note if match else None,
    )
    session.add_all([topic, post])
    session.flush()
    session.add(TopicFollow(user_id=user.id, topic_id=topic.id, created_at=now))  # the author follows from the start
    session.flush()
    changed(session, "topic", topic.id)
    changed(session, "post", post.id)
    return topic, post


def create_reply(session: Session, user: User, topic: Topic, source: str, key: str | None = None) -> Post:
    match = _watched(session, user, source)
    body_html = render_post(source)
    held = should_hold(session, user, source, body_html) or (match is not None and match.action == screening.HOLD)
    now = utcnow()
    post = Post(
        topic=topic,
        author_id=user.id,
        body_source=source,
        body_html=body_html,
        status=PENDING if held else PUBLISHED,
        created_at=now,
        submission_key=key,
        urgent_at=now if crisis.suggests_risk(source) else None,
        flag_reason=match.note if match else None,
    )
    session.add(post)
    if not held:
        topic.last_activity_at = now
    session.flush()
    changed(session, "post", post.id)
    if post.status == PUBLISHED:
        notify_reply(session, post)
    return post


class Refused(ValueError):
    """The text uses a watched word whose action is to refuse: the message is for the member."""


def _watched(session: Session, user: User, *texts: str | None):
    """The strongest screening answer for the texts (watched words); moderators' own posts are not checked."""
    if user.is_moderator:
        return None
    match = screening.screen(session, texts)
    if match is not None and match.action == screening.REFUSE:
        raise Refused(match.refusal)
    return match


def link_count(source: str, body_html: str) -> int:
    """How many links a text carries, written out or made by the renderer: an edit that raises it adds one."""
    return max(len(_URL.findall(source)), body_html.count("<a "))


@dataclass(frozen=True)
class EditResult:
    saved: bool
    held: bool = False


def edit_post(session: Session, post: Post, user: User, source: str) -> EditResult:
    """Keep the previous text as a revision, then replace it, only if the post is still as the member saw it.

    Why a conditional UPDATE: a moderator may remove the post while its author
    edits it; the edit must not be written onto the removed post and the member
    must not be told "saved". Why the hold: a member still under review could
    otherwise get a harmless post approved, then edit spam into it.
    """
    expected = post.status
    old_source, old_html = post.body_source, post.body_html
    if expected not in (PUBLISHED, PENDING):
        return EditResult(saved=False)
    if source == old_source:
        return EditResult(saved=True)
    match = None if user.is_moderator else screening.screen(session, (source,), before=(old_source,))
    if match is not None and match.action == screening.REFUSE:
        raise Refused(match.refusal)
    body_html = render_post(source)
    adds_link = link_count(source, body_html) > link_count(old_source, old_html)
    rehold = expected == PUBLISHED and (
        (adds_link and under_review(session, user)) or (match is not None and match.action == screening.HOLD)
    )
    values = {"body_source": source, "body_html": body_html, "edited_at": utcnow()}
    if match is not None:
        values["flag_reason"] = match.note
    if post.urgent_at is None and crisis.suggests_risk(source):
        values["urgent_at"] = values["edited_at"]
    if rehold:
        values.update(status=PENDING, approved_at=None, approved_by_id=None)
    result = session.execute(
        update(Post).where(Post.id == post.id, Post.status == expected).values(**values),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        session.rollback()
        return EditResult(saved=False)
    session.add(PostRevision(post_id=post.id, body_source=old_source, body_html=old_html))
    first = post.is_first
    if rehold and first:
        session.execute(
            update(Topic).where(Topic.id == post.topic_id, Topic.status == PUBLISHED).values(status=PENDING),
            execution_options={"synchronize_session": False},
        )
    session.flush()
    session.expire(post)
    changed(session, "post", post.id)
    if first:
        changed(session, "topic", post.topic_id)
    return EditResult(saved=True, held=rehold)


def withdraw_post(session: Session, post: Post, user: User) -> bool:
    """The author takes a post back. Conditional on its state, so it cannot race a removal.

    Why not a delete: moderators may need the text for a while (a report, an
    appeal), as /privacy says; readers see only that its author withdrew it.
    """
    if post.author_id != user.id:
        return False
    now = utcnow()
    result = session.execute(
        update(Post)
        .where(Post.id == post.id, Post.author_id == user.id, Post.status.in_((PUBLISHED, PENDING)))
        .values(status=WITHDRAWN, withdrawn_at=now, urgent_at=None, flag_reason=None),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        session.rollback()
        return False
    session.execute(
        update(Report).where(Report.post_id == post.id, Report.resolved_at.is_(None)).values(resolved_at=now, resolution="withdrawn"),
        execution_options={"synchronize_session": False},
    )
    cancel(session, f"reply:{post.id}:")
    changed(session, "post", post.id)
    session.expire(post)
    return True


def purge_withdrawn(session: Session, older_than_days: int) -> int:
    """Erase the text of posts withdrawn more than `older_than_days` ago, and their earlier versions."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    ids = list(session.scalars(select(Post.id).where(Post.status == WITHDRAWN, Post.withdrawn_at < cutoff, Post.body_source != "")))
    if not ids:
        return 0
    session.execute(delete(PostRevision).where(PostRevision.post_id.in_(ids)))
    session.execute(
        update(Post).where(Post.id.in_(ids)).values(body_source="", body_html=""), execution_options={"synchronize_session": False}
    )
    return len(ids)
