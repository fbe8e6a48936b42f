"""Moderation's part of a member's data export: decisions about the member, their topics and their posts.

Registered with accounts as a hooks.MEMBER_DATA source. Moderators are named
by role only: who they are is not the member's data.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ldnsite.accounts.models import User
from ldnsite.accounts.mydata import when
from ldnsite.forum.models import Post, Topic
from ldnsite.moderation.models import ModerationLog


def member_data(db: Session, user: User) -> dict:
    post_ids = select(Post.id).where(Post.author_id == user.id)
    topic_ids = select(Topic.id).where(Topic.author_id == user.id)
    about = or_(
        and_(ModerationLog.target_type == "user", ModerationLog.target_id == user.id),
        and_(ModerationLog.target_type == "post", ModerationLog.target_id.in_(post_ids)),
        and_(ModerationLog.target_type == "topic", ModerationLog.target_id.in_(topic_ids)),
    )
    log = db.scalars(select(ModerationLog).where(about).order_by(ModerationLog.id)).all()
    return {
        "moderation_decisions": [
            {
                "action": e.action,
                "about": e.target_type,
                "id": e.target_id,
                "reason": e.reason,
                "at": when(e.created_at),
                "by": "a moderator",
            }
            for e in log
        ],
    }
