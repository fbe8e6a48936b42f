"""Member accounts."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ldnsite.db import Base, utcnow

ROLES = ("member", "moderator", "admin")


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Normalised (lower-cased, IDNA domain); NULL once the account is deleted.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    # Case-folded copy, kept in step by set_display_name_key: display names are
    # unique regardless of case, and SQLite's lower() only folds ASCII. The
    # unique index settles two registrations racing for one name; a deleted
    # account's key is NULL, so any number of them can be "Deleted member".
    display_name_key: Mapped[str | None] = mapped_column(String(80), index=True, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(16), default="member")
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    notify_replies: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change or sign-out everywhere: old sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    @validates("display_name")
    def set_display_name_key(self, _key: str, value: str) -> str:
        self.display_name_key = value.casefold() if value else None
        return value

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_moderator(self) -> bool:
        return self.role in ("moderator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class EndedSession(Base):
    """A signed-out session, by its random id: the signed cookie alone can no longer prove it.

    Why a list of ended sessions rather than of live ones: the session lives in
    the signed cookie, so only a sign-out needs a row; rows older than the
    longest a session may live (SESSION_MAX_AGE_DAYS) are deleted.
    """

    __tablename__ = "ended_sessions"

    sid: Mapped[str] = mapped_column(String(32), primary_key=True)
    ended_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Suspension(Base):
    """A moderator's bar on posting and reporting, for a period or until lifted.

    Why with accounts: the forum checks it before every post and moderation
    sets it; both sit above accounts, so neither has to import the other.
    The rows in force are read through accounts.suspensions only.
    """

    __tablename__ = "suspensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)  # NULL: indefinite
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    moderator: Mapped[User | None] = relationship(foreign_keys=[moderator_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])
