"""Discussion board: topics, posts, their edit history and reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ldnsite.accounts.models import User
from ldnsite.db import Base, utcnow

# Post and topic states. "pending" posts wait for a moderator; "removed" is a
# soft delete: the text stays for audit and restore.
PENDING, PUBLISHED, REMOVED = "pending", "published", "removed"
# Taken back by its author: shown as "withdrawn by its author"; the text stays for moderators for
# FORUM_WITHDRAWN_RETENTION_DAYS (as /privacy says), then `flask forum purge-withdrawn` erases it.
WITHDRAWN = "withdrawn"


class Topic(Base):
    __tablename__ = "topics"
    # One published discussion per content page. Held and removed ones do not take the slot,
    # so one new account cannot block "Discuss this article" for a page.
    __table_args__ = (
        Index("uq_topics_page_slug_published", "page_slug", unique=True,
              sqlite_where=text("status = 'published'"), postgresql_where=text("status = 'published'")),
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
