"""Moderation actions. Each one changes state and writes its log entry in one transaction.

Why conditional UPDATEs: two moderators may act on the same post at once. Every
UPDATE names the state it expects in its WHERE clause, so the database applies
a change to at most one of them; the other sees rowcount 0, changes nothing,
writes no log entry and is told what happened instead. Each function commits
on success and rolls back when nothing changed.

Mail and search-outbox rows may be written in any order: the mailer's
SAVEPOINT on PostgreSQL does not set off the index-after-commit hook, which
waits for the real commit (search/__init__.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ldnsite.accounts.models import Suspension, User
from ldnsite.accounts.suspensions import active_condition, active_suspension
from ldnsite.db import utcnow
from ldnsite.forum.changes import changed
from ldnsite.forum.crisis import normalise
from ldnsite.forum.models import PENDING, PUBLISHED, REMOVED, Post, Report, Topic, first_post_id
from ldnsite.forum.notifications import notify_reply
from ldnsite.mail.mailer import cancel, queue
from ldnsite.moderation.models import ModerationLog, WatchedWord
from ldnsite.moderation.watched_words import ACTION_LABELS

NO_SYNC = {"synchronize_session": False}


@dataclass(frozen=True)
class Outcome:
    changed: bool
    message: str


# ---- helpers -------------------------------------------------------------------------------


def log_action(
    session: Session,
    moderator: User,
    action: str,
    target_type: str,
    target_id: int,
    *,
    reason: str | None = None,
    previous: str | None = None,
    new: str | None = None,
) -> ModerationLog:
    entry = ModerationLog(
        moderator_id=moderator.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        previous_state=previous,
        new_state=new,
        created_at=utcnow(),
    )
    session.add(entry)
    session.flush()  # the id names the entry in mail dedupe keys
    return entry


def _move_post(session: Session, post_id: int, from_states: tuple[str, ...], values: dict) -> str | None:
    """Move a post out of one of from_states; returns the status it had, or None if it was not in one.

    The UPDATE is conditional on the exact status just read, so the status the
    log records as "previous" is the one actually replaced; if another
    moderator changed it in between, read again.
    """
    for _ in range(3):
        current = session.scalar(select(Post.status).where(Post.id == post_id))
        if current not in from_states:
            return None
        result = session.execute(update(Post).where(Post.id == post_id, Post.status == current).values(**values), execution_options=NO_SYNC)
        if result.rowcount == 1:
            return current
    return None


def _current_status(session: Session, post_id: int) -> str | None:
    session.rollback()
    return session.scalar(select(Post.status).where(Post.id == post_id))


def _cancel_reply_mail(session: Session, post_ids: list[int]) -> None:
    for pid in post_ids:
        cancel(session, f"reply:{pid}:")


def _mail_author(session: Session, user_id: int | None, *, subject: str, template: str, context: dict, key: str) -> None:
    """Tell the author through the mailer, which honours their opt-out."""
    author = session.get(User, user_id) if user_id else None
    if author is None or not author.email or author.deleted_at is not None:
        return
    queue(
        session,
        to=author.email,
        subject=subject,
        template=template,
        context={"display_name": author.display_name, **context},
        category="moderation",
        dedupe_key=key,
    )


def _topic_post_ids(session: Session, topic_id: int) -> list[int]:
    return list(session.scalars(select(Post.id).where(Post.topic_id == topic_id)))


def _set_topic_status(session: Session, topic_id: int, from_status: str | None, to_status: str) -> bool:
    if to_status == PUBLISHED:
        _give_up_taken_page_slot(session, topic_id)
    cond = Topic.status != to_status if from_status is None else Topic.status == from_status
    result = session.execute(update(Topic).where(Topic.id == topic_id, cond).values(status=to_status), execution_options=NO_SYNC)
    return result.rowcount == 1


def _give_up_taken_page_slot(session: Session, topic_id: int) -> None:
    """A held or removed "Discuss this article" topic published after another took the page becomes an ordinary topic."""
    slug = session.scalar(select(Topic.page_slug).where(Topic.id == topic_id))
    if slug is None:
        return
    taken = session.scalar(select(Topic.id).where(Topic.page_slug == slug, Topic.status == PUBLISHED, Topic.id != topic_id))
    if taken is not None:
        session.execute(update(Topic).where(Topic.id == topic_id).values(page_slug=None), execution_options=NO_SYNC)


def _reindex_topic(session: Session, topic_id: int) -> None:
    changed(session, "topic", topic_id)
    for pid in _topic_post_ids(session, topic_id):
        changed(session, "post", pid)


def _post_url(post: Post) -> str:
    return current_app.config["SITE_URL"] + post.url


# ---- posts ---------------------------------------------------------------------------------


def remove_post(session: Session, post: Post, moderator: User, reason: str) -> Outcome:
    now = utcnow()
    previous = _move_post(
        session,
        post.id,
        (PENDING, PUBLISHED),
        {
            "status": REMOVED,
            "removed_at": now,
            "removed_by_id": moderator.id,
            "removal_reason": reason,
            "urgent_at": None,
            "flag_reason": None,
        },
    )
    if previous is None:
        _current_status(session, post.id)
        return Outcome(False, "This post was already removed. Nothing changed.")
    session.execute(
        update(Report)
        .where(Report.post_id == post.id, Report.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_id=moderator.id, resolution="removed"),
        execution_options=NO_SYNC,
    )
    _cancel_reply_mail(session, [post.id])
    topic_removed = first_post_id(session, post.topic_id) == post.id and _set_topic_status(session, post.topic_id, None, REMOVED)
    if topic_removed:
        # The whole topic goes: its replies' pending notifications are cancelled and they leave search.
        _cancel_reply_mail(session, _topic_post_ids(session, post.topic_id))
    entry = log_action(session, moderator, "remove", "post", post.id, reason=reason, previous=previous, new=REMOVED)
    session.refresh(post)
    _mail_author(
        session,
        post.author_id,
        subject="A moderator removed your post",
        template="moderation_post_removed",
        context={
            "topic_title": post.topic.title,
            "reason": reason,
            "topic_removed": topic_removed,
            "post_url": _post_url(post),
            "excerpt": post.body_source[:300],
        },
        key=f"moderation:{entry.id}",
    )
    changed(session, "post", post.id)
    if topic_removed:
        _reindex_topic(session, post.topic_id)
    session.commit()
    if topic_removed:
        return Outcome(True, "Post removed. It was the first post, so the whole topic is removed.")
    return Outcome(True, "Post removed.")


def restore_post(session: Session, post: Post, moderator: User) -> Outcome:
    """Undo a removal exactly: the post gets back the status it had, and a removed topic comes back with its first post."""
    last_removal = session.scalar(
        select(ModerationLog.previous_state)
        .where(ModerationLog.action == "remove", ModerationLog.target_type == "post", ModerationLog.target_id == post.id)
        .order_by(ModerationLog.id.desc())
        .limit(1)
    )
    target = last_removal if last_removal in (PENDING, PUBLISHED) else PUBLISHED
    previous = _move_post(
        session, post.id, (REMOVED,), {"status": target, "removed_at": None, "removed_by_id": None, "removal_reason": None}
    )
    if previous is None:
        status = _current_status(session, post.id)
        return Outcome(False, f"This post is not removed (it is {status}), so there was nothing to restore. Nothing changed.")
    topic_restored = first_post_id(session, post.topic_id) == post.id and _set_topic_status(session, post.topic_id, REMOVED, target)
    entry = log_action(session, moderator, "restore", "post", post.id, previous=REMOVED, new=target)
    session.refresh(post)
    _mail_author(
        session,
        post.author_id,
        subject="A moderator restored your post",
        template="moderation_post_restored",
        context={"topic_title": post.topic.title, "post_url": _post_url(post), "held": target == PENDING},
        key=f"moderation:{entry.id}",
    )
    changed(session, "post", post.id)
    if topic_restored:
        _reindex_topic(session, post.topic_id)
    session.commit()
    suffix = " and its topic" if topic_restored else ""
    if target == PENDING:
        return Outcome(True, f"Post{suffix} restored. It was waiting for approval before, so it is back in the queue.")
    return Outcome(True, f"Post{suffix} restored.")


def approve_post(session: Session, post: Post, moderator: User) -> Outcome:
    now = utcnow()
    previous = _move_post(
        session,
        post.id,
        (PENDING,),
        {"status": PUBLISHED, "approved_at": now, "approved_by_id": moderator.id, "urgent_at": None, "flag_reason": None},
    )
    if previous is None:
        status = _current_status(session, post.id)
        if status == PUBLISHED:
            return Outcome(False, "This post was already approved. Nothing changed.")
        return Outcome(False, f"This post is {status}, so it cannot be approved. Nothing changed.")
    is_first = first_post_id(session, post.topic_id) == post.id
    topic_published = is_first and _set_topic_status(session, post.topic_id, PENDING, PUBLISHED)
    session.execute(update(Topic).where(Topic.id == post.topic_id).values(last_activity_at=now), execution_options=NO_SYNC)
    log_action(session, moderator, "approve", "post", post.id, previous=PENDING, new=PUBLISHED)
    session.refresh(post)
    if not is_first:
        notify_reply(session, post)
    changed(session, "post", post.id)
    if topic_published:
        changed(session, "topic", post.topic_id)
    session.commit()
    return Outcome(True, "Post approved and published.")


def dismiss_reports(session: Session, post: Post, moderator: User) -> Outcome:
    """Close the open reports and the urgent mark: a moderator has dealt with the post, which stays."""
    result = session.execute(
        update(Report)
        .where(Report.post_id == post.id, Report.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=moderator.id, resolution="dismissed"),
        execution_options=NO_SYNC,
    )
    count = result.rowcount
    marks = session.execute(select(Post.urgent_at, Post.flag_reason).where(Post.id == post.id)).first()
    cleared = session.execute(
        update(Post)
        .where(Post.id == post.id, or_(Post.urgent_at.is_not(None), Post.flag_reason.is_not(None)))
        .values(urgent_at=None, flag_reason=None),
        execution_options=NO_SYNC,
    ).rowcount
    if count == 0 and cleared == 0:
        session.rollback()
        return Outcome(False, "This post has no open reports. Nothing changed.")
    parts = [f"{count} report{'s' if count != 1 else ''} dismissed"] if count else []
    if cleared and marks.urgent_at is not None:
        parts.append("urgent mark cleared")
    if cleared and marks.flag_reason is not None:
        parts.append("watched word flag cleared")
    log_action(session, moderator, "dismiss_reports", "post", post.id, reason="; ".join(parts) + "; the post stays")
    session.commit()
    return Outcome(True, "; ".join(parts).capitalize() + ". The post stays as it is.")


# ---- topics --------------------------------------------------------------------------------


def lock_topic(session: Session, topic: Topic, moderator: User) -> Outcome:
    return _set_lock(session, topic, moderator, locked=True)


def unlock_topic(session: Session, topic: Topic, moderator: User) -> Outcome:
    return _set_lock(session, topic, moderator, locked=False)


def _set_lock(session: Session, topic: Topic, moderator: User, locked: bool) -> Outcome:
    """Lock or unlock with one conditional UPDATE, so two moderators clicking at once change it once."""
    unchanged = Topic.locked_at.is_(None) if locked else Topic.locked_at.is_not(None)
    result = session.execute(
        update(Topic).where(Topic.id == topic.id, unchanged).values(locked_at=utcnow() if locked else None),
        execution_options=NO_SYNC,
    )
    if result.rowcount == 0:
        session.rollback()
        return Outcome(
            False, "This topic was already locked. Nothing changed." if locked else "This topic was not locked. Nothing changed."
        )
    changed(session, "topic", topic.id)
    states = ("open", "locked") if locked else ("locked", "open")
    log_action(session, moderator, "lock" if locked else "unlock", "topic", topic.id, previous=states[0], new=states[1])
    session.commit()
    return Outcome(True, "Topic locked. Members can read it but not reply." if locked else "Topic unlocked. Members can reply again.")


# ---- members -------------------------------------------------------------------------------


def _lock_member(session: Session, user_id: int) -> None:
    """Take the member's row lock first, so two moderators suspending at once queue up
    (PostgreSQL row lock; SQLite's single writer) and the second sees the first's suspension."""
    session.execute(update(User).where(User.id == user_id).values(session_version=User.session_version), execution_options=NO_SYNC)


def suspend_member(session: Session, member: User, moderator: User, reason: str, days: int | None) -> Outcome:
    _lock_member(session, member.id)
    current = active_suspension(session, member.id)
    if current is not None:
        session.rollback()
        until = "indefinitely" if current.ends_at is None else f"until {current.ends_at:%-d %B %Y %H:%M} UTC"
        return Outcome(False, f"{member.display_name} is already suspended {until}. Nothing changed.")
    now = utcnow()
    ends_at = None if days is None else now + timedelta(days=days)
    session.add(Suspension(user_id=member.id, moderator_id=moderator.id, reason=reason, created_at=now, ends_at=ends_at))
    period = "indefinite" if days is None else f"{days} day{'s' if days != 1 else ''}"
    entry = log_action(session, moderator, "suspend", "user", member.id, reason=reason, new=period)
    _mail_author(
        session,
        member.id,
        subject="Your forum account is suspended",
        template="moderation_suspended",
        context={"reason": reason, "ends_at": ends_at},
        key=f"moderation:{entry.id}",
    )
    session.commit()
    return Outcome(True, f"{member.display_name} is suspended ({period}). They can still read and sign in, but not post or report.")


def lift_suspension(session: Session, member: User, moderator: User) -> Outcome:
    now = utcnow()
    result = session.execute(
        update(Suspension).where(Suspension.user_id == member.id, active_condition(now)).values(lifted_at=now, lifted_by_id=moderator.id),
        execution_options=NO_SYNC,
    )
    if result.rowcount == 0:
        session.rollback()
        return Outcome(False, f"{member.display_name} is not suspended. Nothing changed.")
    log_action(session, moderator, "lift_suspension", "user", member.id, previous="suspended", new="active")
    session.commit()
    return Outcome(True, f"Suspension lifted. {member.display_name} can post again.")


def change_role(session: Session, member: User, admin: User, role: str) -> Outcome:
    for _ in range(3):
        current = session.scalar(select(User.role).where(User.id == member.id))
        if current == role:
            session.rollback()
            return Outcome(False, f"{member.display_name} already has the role {role}. Nothing changed.")
        result = session.execute(
            update(User).where(User.id == member.id, User.role == current).values(role=role), execution_options=NO_SYNC
        )
        if result.rowcount == 1:
            log_action(session, admin, "change_role", "user", member.id, previous=current, new=role)
            session.commit()
            return Outcome(True, f"{member.display_name} is now a {role}.")
    session.rollback()
    return Outcome(False, "The role was being changed by someone else at the same time. Nothing changed; please try again.")


# ---- watched words -------------------------------------------------------------------------


def add_watched_word(session: Session, moderator: User, phrase: str, action: str, message: str | None) -> Outcome:
    key = normalise(phrase)
    if session.scalar(select(WatchedWord.id).where(WatchedWord.key == key)) is not None:
        session.rollback()
        return Outcome(False, f"“{phrase}” is already watched. Nothing changed: remove it first to change its action.")
    word = WatchedWord(phrase=phrase, key=key, action=action, message=message or None, created_by_id=moderator.id, created_at=utcnow())
    session.add(word)
    try:
        session.flush()
    except IntegrityError:  # another moderator added it a moment ago
        session.rollback()
        return Outcome(False, f"“{phrase}” is already watched. Nothing changed.")
    log_action(
        session,
        moderator,
        "add_watched_word",
        "watched_word",
        word.id,
        reason=f"“{phrase}”: {ACTION_LABELS[action].lower()}" + (f". Message: {message}" if message else ""),
        new=action,
    )
    session.commit()
    return Outcome(True, f"“{phrase}” is now watched: {ACTION_LABELS[action].lower()}.")


def remove_watched_word(session: Session, moderator: User, word_id: int) -> Outcome:
    word = session.get(WatchedWord, word_id)
    if word is None:
        session.rollback()
        return Outcome(False, "That watched word was already removed. Nothing changed.")
    phrase, action = word.phrase, word.action
    if session.execute(delete(WatchedWord).where(WatchedWord.id == word_id), execution_options=NO_SYNC).rowcount != 1:
        session.rollback()
        return Outcome(False, "That watched word was already removed. Nothing changed.")
    log_action(session, moderator, "remove_watched_word", "watched_word", word_id, reason=f"“{phrase}”", previous=action)
    session.commit()
    return Outcome(True, f"“{phrase}” is no longer watched.")
