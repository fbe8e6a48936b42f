"""Discussion board: topics, posts, their edit history and reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship

from ldnsite.accounts.models import User
from ldnsite.db import Base, utcnow

# Post and topic states. "pending" posts wait for a moderator; "removed" is a
# soft delete: the text stays for audit and restore.
PENDING, PUBLISHED, REMOVED = "pending", "published", "removed"
# Taken back by its author: shown as "withdrawn by its author"; the text stays for moderators for
# FORUM_WITHDRAWN_RETENTION_DAYS (as /privacy says), then `flask forum purge-withdrawn` erases it.
WITHDRAWN = "withdrawn"


def topic_path(topic_id: int, post_id: int | None = None, *, find_page: bool = False) -> str:
    """The address of a topic, or of a post in it (routes.topic serves it): the one place it is written.

    Why not url_for: the indexer, the mail worker and the CLI build these
    outside any request. With find_page, the topic page works out which of
    its pages holds the post (`?post=`), as links in emails need.
    """
    path = f"/forum/t/{topic_id}"
    if post_id is None:
        return path
    return f"{path}?post={post_id}#post-{post_id}" if find_page else f"{path}#post-{post_id}"


class Topic(Base):
    __tablename__ = "topics"
    # One published discussion per content page. Held and removed ones do not take the slot,
    # so one new account cannot block "Discuss this article" for a page.
    __table_args__ = (
        Index(
            "uq_topics_page_slug_published",
            "page_slug",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(150))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The content page this topic discusses ("Discuss this article"), if any.
    page_slug: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PUBLISHED, index=True)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    author: Mapped[User | None] = relationship()
    posts: Mapped[list[Post]] = relationship(back_populates="topic", order_by="Post.id")

    @property
    def url(self) -> str:
        return topic_path(self.id)

    @property
    def first_post(self) -> Post | None:
        """The opening post: the topic's first (lowest id) post, whatever its state."""
        return object_session(self).scalar(select(Post).where(Post.topic_id == self.id).order_by(Post.id).limit(1))


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    body_source: Mapped[str] = mapped_column(Text)
    # Sanitised once on write; the only post field a template may mark safe.
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PUBLISHED, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removal_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set when the text suggests someone may be at risk (forum.crisis): first in the moderation queue,
    # marked urgent, until a moderator has dealt with it.
    urgent_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # Why a moderator should look at this post (a watched word it uses); cleared when one has.
    flag_reason: Mapped[str | None] = mapped_column(String(300))
    # Names the form submission that made the post, so the same form sent twice makes one post.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    topic: Mapped[Topic] = relationship(back_populates="posts")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])

    @property
    def url(self) -> str:
        return topic_path(self.topic_id, self.id)

    @property
    def is_first(self) -> bool:
        """Whether this is its topic's opening post: removing, restoring or approving it does the same to the topic."""
        return first_post_id(object_session(self), self.topic_id) == self.id

    @property
    def is_public(self) -> bool:
        """What anyone may read and search may show: a published post in a published topic."""
        return self.status == PUBLISHED and self.topic.status == PUBLISHED


def public_posts() -> ColumnElement[bool]:
    """SQL for Post.is_public, for queries that join Topic: the one visibility rule search and the forum share."""
    return (Post.status == PUBLISHED) & (Topic.status == PUBLISHED)


def first_post_ids(topic_ids: list[int] | None = None) -> Select:
    """(topic id, opening post id) rows: the one definition of a topic's opening post, in SQL."""
    query = select(Post.topic_id, func.min(Post.id).label("post_id")).group_by(Post.topic_id)
    return query if topic_ids is None else query.where(Post.topic_id.in_(topic_ids))


def first_post_id(session: Session, topic_id: int) -> int | None:
    return session.scalar(select(func.min(Post.id)).where(Post.topic_id == topic_id))


class PostRevision(Base):
    """Earlier text of an edited post, kept so an edit never loses anything."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("post_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)  # what moderators read: the chosen reason
    # The chosen reason's key (forms.REPORT_REASONS); "at_risk" puts the post first in the queue, marked urgent.
    category: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(String(16))  # dismissed | removed

    post: Mapped[Post] = relationship()


class TopicFollow(Base):
    """A member who hears about replies in a topic by email. The topic's author follows it from the start."""

    __tablename__ = "topic_follows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
