"""Following a topic: who hears about its replies, and the signed link that stops them for one topic.

Why a signed link: the per-topic unsubscribe in each reply email must work
from the mailbox without signing in, and must not be guessable for someone
else's topic or account. Like the mailer's unsubscribe link, it changes
nothing on GET (link scanners follow links); the button POSTs.
"""

from __future__ import annotations

from collections.abc import Mapping

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ldnsite.db import utcnow
from ldnsite.forum.models import TopicFollow

SALT = "forum-unfollow"


def is_following(session: Session, user_id: int, topic_id: int) -> bool:
    return session.get(TopicFollow, (user_id, topic_id)) is not None


def follow(session: Session, user_id: int, topic_id: int) -> bool:
    """Start following; False if already following. Flushes in a savepoint-free way: the row is the proof."""
    if is_following(session, user_id, topic_id):
        return False
    session.add(TopicFollow(user_id=user_id, topic_id=topic_id, created_at=utcnow()))
    try:
        session.flush()
    except IntegrityError:  # the same button pressed twice at once
        session.rollback()
        return False
    return True


def unfollow(session: Session, user_id: int, topic_id: int) -> bool:
    result = session.execute(delete(TopicFollow).where(TopicFollow.user_id == user_id, TopicFollow.topic_id == topic_id))
    return result.rowcount > 0


def follower_ids(session: Session, topic_id: int) -> list[int]:
    return list(session.scalars(select(TopicFollow.user_id).where(TopicFollow.topic_id == topic_id).order_by(TopicFollow.user_id)))


def unfollow_token(user_id: int, topic_id: int, config: Mapping) -> str:
    return URLSafeSerializer(config["SECRET_KEY"], salt=SALT).dumps([user_id, topic_id])


def read_unfollow_token(token: str, config: Mapping) -> tuple[int, int] | None:
    try:
        value = URLSafeSerializer(config["SECRET_KEY"], salt=SALT).loads(token)
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        return None
    return value[0], value[1]
