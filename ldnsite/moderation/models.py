"""Moderation: the append-only action log and the watched words.

Suspensions live with accounts (ldnsite/accounts/models.py): the forum asks
whether a member is suspended, and the forum sits below moderation.

Why the log guards itself in three layers: moderators are accountable through
it, so nothing in the application may rewrite history. The ORM refuses to
flush an update or delete of a log row, ORM bulk UPDATE/DELETE statements
against it are refused, and the database itself refuses with a trigger
(installed by create_all here and by the migration through
`append_only_trigger_sql`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, DateTime, ForeignKey, Integer, String, Text, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from ldnsite.accounts.models import User
from ldnsite.db import Base, utcnow


class ModerationLog(Base):
    """One row per moderation action that changed something. Never updated or deleted."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    target_type: Mapped[str] = mapped_column(String(16))  # post | topic | user | report
    target_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # The target's state before the action (a post's status, a member's role), so a
    # restore can put a post back exactly as it was and the log reads "from -> to".
    previous_state: Mapped[str | None] = mapped_column(String(16))
    new_state: Mapped[str | None] = mapped_column(String(16))

    moderator: Mapped[User | None] = relationship(foreign_keys=[moderator_id])


class WatchedWord(Base):
    """A word or phrase moderators watch for in titles and posts, and what happens when it is used.

    Why stored and not configured: moderators add and remove them as spam
    changes, without a deployment; each change is written to the log.
    """

    __tablename__ = "watched_words"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phrase: Mapped[str] = mapped_column(String(100))
    # The phrase folded for matching (forum.crisis.normalise); one entry per phrase.
    key: Mapped[str] = mapped_column(String(100), unique=True)
    action: Mapped[str] = mapped_column(String(8))  # hold | refuse | flag
    message: Mapped[str | None] = mapped_column(Text)  # shown to the member when the post is refused
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a moderation log entry."""


@event.listens_for(ModerationLog, "before_update")
def _refuse_update(_mapper, _connection, target: ModerationLog) -> None:
    raise AppendOnlyError(f"moderation log entry {target.id} cannot be changed: the log is append-only")


@event.listens_for(ModerationLog, "before_delete")
def _refuse_delete(_mapper, _connection, target: ModerationLog) -> None:
    raise AppendOnlyError(f"moderation log entry {target.id} cannot be deleted: the log is append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """Mapper events do not see `session.execute(update(ModerationLog))`, so refuse those here."""
    if (state.is_update or state.is_delete) and state.bind_mapper is not None and state.bind_mapper.class_ is ModerationLog:
        raise AppendOnlyError("the moderation log is append-only: bulk UPDATE and DELETE are refused")


# ---- database-level guard ------------------------------------------------------------------

_PG_STATEMENTS = (
    """CREATE OR REPLACE FUNCTION moderation_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = 'moderation_log is append-only: ' || TG_OP || ' refused';
END
$$""",
    "DROP TRIGGER IF EXISTS moderation_log_no_change ON moderation_log",
    "CREATE TRIGGER moderation_log_no_change BEFORE UPDATE OR DELETE ON moderation_log "
    "FOR EACH ROW EXECUTE FUNCTION moderation_log_append_only()",
    "DROP TRIGGER IF EXISTS moderation_log_no_truncate ON moderation_log",
    "CREATE TRIGGER moderation_log_no_truncate BEFORE TRUNCATE ON moderation_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION moderation_log_append_only()",
)

_SQLITE_STATEMENTS = (
    "CREATE TRIGGER IF NOT EXISTS moderation_log_no_update BEFORE UPDATE ON moderation_log "
    "BEGIN SELECT RAISE(ABORT, 'moderation_log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER IF NOT EXISTS moderation_log_no_delete BEFORE DELETE ON moderation_log "
    "BEGIN SELECT RAISE(ABORT, 'moderation_log is append-only: DELETE refused'); END",
)


def append_only_trigger_sql(dialect: str) -> tuple[str, ...]:
    """The SQL that makes the database itself refuse changes to moderation_log.

    Call from the migration that creates the table, e.g.
    `for sql in append_only_trigger_sql(op.get_bind().dialect.name): op.execute(sql)`.
    """
    if dialect == "postgresql":
        return _PG_STATEMENTS
    if dialect == "sqlite":
        return _SQLITE_STATEMENTS
    return ()


@event.listens_for(ModerationLog.__table__, "after_create")
def _install_triggers(_table, connection, **_kw) -> None:
    for sql in append_only_trigger_sql(connection.dialect.name):
        connection.execute(DDL(sql))
