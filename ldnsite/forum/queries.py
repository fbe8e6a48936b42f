"""Read side of the board: what each reader may see, page by page.

Why visibility lives in the queries: a pending post or a removed topic must
not appear in any list, count or page for someone who may not see it, and
filtering in SQL keeps pagination honest.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from ldnsite.forum.models import PENDING, PUBLISHED, Post, Topic, topic_path
from ldnsite.paging import PER_PAGE, Paginated, offset, page_count


def _viewer(user) -> tuple[int | None, bool]:
    if user is None or not user.is_authenticated:
        return None, False
    return user.id, bool(user.is_moderator)


def visible_topics_clause(user) -> ColumnElement[bool]:
    uid, moderator = _viewer(user)
    if moderator:
        return true()
    own_pending = (Topic.status == PENDING) & (Topic.author_id == uid) if uid is not None else false()
    return or_(Topic.status == PUBLISHED, own_pending)


def visible_posts_clause(user) -> ColumnElement[bool]:
    uid, moderator = _viewer(user)
    if moderator:
        return true()
    own_pending = (Post.status == PENDING) & (Post.author_id == uid) if uid is not None else false()
    return or_(Post.status != PENDING, own_pending)


def topic_list(session: Session, user, page: int) -> Paginated | None:
    """Topics, latest activity first, each with its count of published posts. None if the page does not exist."""
    where = visible_topics_clause(user)
    total = session.scalar(select(func.count()).select_from(Topic).where(where)) or 0
    pages = page_count(total)
    if page < 1 or page > pages:
        return None
    counts = select(Post.topic_id, func.count().label("n")).where(Post.status == PUBLISHED).group_by(Post.topic_id).subquery()
    rows = session.execute(
        select(Topic, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.topic_id == Topic.id)
        .where(where)
        .options(selectinload(Topic.author))
        .order_by(Topic.last_activity_at.desc(), Topic.id.desc())
        .limit(PER_PAGE)
        .offset(offset(page))
    ).all()
    return Paginated(items=[(topic, count) for topic, count in rows], page=page, pages=pages, total=total)


def topic_posts(session: Session, user, topic: Topic, page: int) -> Paginated | None:
    where = (Post.topic_id == topic.id) & visible_posts_clause(user)
    total = session.scalar(select(func.count()).select_from(Post).where(where)) or 0
    pages = page_count(total)
    if page < 1 or page > pages:
        return None
    posts = session.scalars(
        select(Post).where(where).options(selectinload(Post.author)).order_by(Post.id).limit(PER_PAGE).offset(offset(page))
    ).all()
    return Paginated(items=list(posts), page=page, pages=pages, total=total)


def page_of_post(session: Session, user, post: Post) -> int:
    """Which page of its topic a post is on, for this reader."""
    before = (
        session.scalar(
            select(func.count()).select_from(Post).where(Post.topic_id == post.topic_id, Post.id < post.id, visible_posts_clause(user))
        )
        or 0
    )
    return before // PER_PAGE + 1


def latest_topics(session: Session, limit: int = 5) -> list[Topic]:
    return list(
        session.scalars(
            select(Topic).where(Topic.status == PUBLISHED).order_by(Topic.last_activity_at.desc(), Topic.id.desc()).limit(limit)
        )
    )


def sitemap_entries(session: Session) -> list[tuple[str, object]]:
    rows = session.execute(select(Topic.id, Topic.last_activity_at).where(Topic.status == PUBLISHED).order_by(Topic.id))
    return [(topic_path(tid), last) for tid, last in rows]


def page_discussion(session: Session, slug: str) -> Topic | None:
    """The content page's discussion: its published topic. Held or removed ones never take the slot."""
    return session.scalar(select(Topic).where(Topic.page_slug == slug, Topic.status == PUBLISHED).limit(1))


def own_held_discussion(session: Session, user_id: int, slug: str) -> Topic | None:
    return session.scalar(select(Topic).where(Topic.page_slug == slug, Topic.status == PENDING, Topic.author_id == user_id).limit(1))
