"""Reply notifications: one email per follower of the topic when a reply is published.

Why through the mailer's queue inside the caller's transaction: the message
exists exactly when the post does (a rolled-back post sends nothing), the
mailer checks the opt-out list, and the dedupe key means approving the same
post twice never mails anyone twice.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnsite.accounts.models import User
from ldnsite.forum.follows import follower_ids, unfollow_token
from ldnsite.forum.models import PUBLISHED, Post, Topic, topic_path
from ldnsite.mail import mailer

EXCERPT_CHARS = 300


def subscribers(session: Session, topic: Topic) -> list[User]:
    """Who hears about replies in this topic: the members following it (its author follows from the start)."""
    ids = follower_ids(session, topic.id)
    if not ids:
        return []
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)))


def _wants_mail(user: User) -> bool:
    return bool(user.notify_replies and user.email and user.verified_at and user.deleted_at is None)


def post_url(post: Post) -> str:
    """Absolute link to the post's topic, to the anchor of the post."""
    return current_app.config["SITE_URL"] + topic_path(post.topic_id, post.id, find_page=True)


def notify_reply(session: Session, post: Post) -> int:
    """Queue a notification of `post` to each subscriber. Returns how many were queued.

    Called when a post is published: at once for posts that are not held, and
    by moderation when it approves a held one.
    """
    if post.status != PUBLISHED:
        return 0
    topic = post.topic if post.topic is not None else session.get(Topic, post.topic_id)
    if topic is None or topic.status != PUBLISHED:
        return 0
    author = session.get(User, post.author_id) if post.author_id else None
    author_name = author.display_name if author is not None and author.deleted_at is None else "Deleted member"
    excerpt = post.body_source if len(post.body_source) <= EXCERPT_CHARS else post.body_source[:EXCERPT_CHARS].rstrip() + "…"
    queued = 0
    for user in subscribers(session, topic):
        if user.id == post.author_id or not _wants_mail(user):
            continue
        message = mailer.queue(
            session,
            to=user.email,
            subject=f"New reply to “{topic.title}”",
            template="forum_reply",
            context={
                "recipient_name": user.display_name,
                "topic_title": topic.title,
                "reply_author": author_name,
                "excerpt": excerpt,
                "post_url": post_url(post),
                "settings_url": f"{current_app.config['SITE_URL']}/account/settings",
                "is_author": user.id == topic.author_id,
                "unfollow_url": f"{current_app.config['SITE_URL']}/forum/unfollow/{unfollow_token(user.id, topic.id, current_app.config)}",
            },
            category="notification",
            dedupe_key=f"reply:{post.id}:{user.id}",
        )
        queued += message is not None
    return queued
