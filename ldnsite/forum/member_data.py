"""The forum's part of a member's data export: what they wrote, started, followed and reported.

Registered with accounts as a hooks.MEMBER_DATA source (accounts sits below
the forum, so it cannot ask the forum itself).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnsite.accounts.models import User
from ldnsite.accounts.mydata import when
from ldnsite.forum.models import Post, PostRevision, Report, Topic, TopicFollow


def member_data(db: Session, user: User) -> dict:
    posts = db.execute(
        select(Post, Topic.title).join(Topic, Topic.id == Post.topic_id).where(Post.author_id == user.id).order_by(Post.id)
    ).all()
    revisions: dict[int, list[PostRevision]] = {}
    post_ids = [post.id for post, _ in posts]
    if post_ids:
        for rev in db.scalars(select(PostRevision).where(PostRevision.post_id.in_(post_ids)).order_by(PostRevision.id)):
            revisions.setdefault(rev.post_id, []).append(rev)
    topics = db.scalars(select(Topic).where(Topic.author_id == user.id).order_by(Topic.id)).all()
    reports = db.scalars(select(Report).where(Report.reporter_id == user.id).order_by(Report.id)).all()
    follows = db.scalars(select(TopicFollow).where(TopicFollow.user_id == user.id).order_by(TopicFollow.topic_id)).all()
    return {
        "topics_followed": [{"topic_id": f.topic_id, "since": when(f.created_at)} for f in follows],
        "topics_started": [{"id": t.id, "title": t.title, "created_at": when(t.created_at)} for t in topics],
        "posts": [
            {
                "id": post.id,
                "topic_id": post.topic_id,
                "topic_title": title,
                "status": post.status,
                "created_at": when(post.created_at),
                "edited_at": when(post.edited_at),
                "withdrawn_at": when(post.withdrawn_at),
                "body_markdown": post.body_source,
                "earlier_versions": [{"saved_at": when(r.created_at), "body_markdown": r.body_source} for r in revisions.get(post.id, [])],
            }
            for post, title in posts
        ],
        "reports_made": [
            {
                "post_id": r.post_id,
                "reason": r.reason,
                "category": r.category,
                "details": r.details,
                "created_at": when(r.created_at),
                "outcome": r.resolution,
            }
            for r in reports
        ],
        "removal_reasons": [
            {"post_id": post.id, "reason": post.removal_reason, "removed_at": when(post.removed_at)}
            for post, _ in posts
            if post.removal_reason is not None
        ],
    }
