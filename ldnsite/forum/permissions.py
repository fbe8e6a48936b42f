"""Who may post, reply, edit and report, and why not.

Why functions that return a reason rather than a bool: a member who is
refused must be told why (unverified, suspended, topic locked), so the
reason travels with the refusal into the 403 page.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from ldnsite.accounts.models import Suspension, User
from ldnsite.accounts.suspensions import active_suspension
from ldnsite.db import utcnow
from ldnsite.forum.models import PENDING, PUBLISHED, REMOVED, WITHDRAWN, Post, Topic

UNVERIFIED = "Confirm your email address before you post or report: use the link in the email we sent you when you registered."
LOCKED = "This topic is locked, so no new replies can be added. You can still read it, or start a new topic."


def suspended_until(suspension: Suspension) -> str:
    return f"until {suspension.ends_at:%-d %B %Y at %H:%M} UTC" if suspension.ends_at else "until a moderator lifts it"


def _suspension_message(suspension: Suspension) -> str:
    until = suspended_until(suspension)
    return (
        f"Your account is suspended {until}, so you cannot post or report. "
        f"Reason given: {suspension.reason} If you think this is a mistake, you can appeal: see the forum rules at /forum/rules#appeal."
    )


def refusal_to_participate(session: Session, user: User) -> str | None:
    """Why this member may not post or report right now, or None if they may."""
    if user.verified_at is None:
        return UNVERIFIED
    suspension = active_suspension(session, user.id)
    if suspension is not None:
        return _suspension_message(suspension)
    return None


def refusal_to_reply(session: Session, user: User, topic: Topic) -> str | None:
    if topic.status == REMOVED:
        return "This topic was removed by a moderator, so no replies can be added."
    if topic.locked_at is not None:
        return LOCKED
    return refusal_to_participate(session, user)


def edit_window() -> timedelta:
    return timedelta(minutes=current_app.config["FORUM_EDIT_WINDOW_MINUTES"])


def refusal_to_edit(session: Session, user: User, post: Post, now: datetime | None = None) -> str | None:
    if post.author_id != user.id:
        return "You can only edit your own posts."
    if post.status == WITHDRAWN:
        return "You withdrew this post, so it cannot be edited."
    if post.status not in (PUBLISHED, PENDING):
        return "This post was removed by a moderator, so it cannot be edited."
    if post.topic.status == REMOVED:
        return "This topic was removed by a moderator, so its posts can no longer be edited."
    minutes = int(edit_window().total_seconds() // 60)
    if (now or utcnow()) - post.created_at > edit_window():
        return f"Posts can only be edited for {minutes} minutes after they are posted, and that time has passed for this one."
    if post.topic.locked_at is not None:
        return "This topic is locked, so its posts can no longer be edited."
    return refusal_to_participate(session, user)


def refusal_to_withdraw(user: User, post: Post) -> str | None:
    """Authors may take back their own post at any time, even while suspended: it may disclose their health."""
    if post.author_id != user.id:
        return "You can only withdraw your own posts."
    if post.status == WITHDRAWN:
        return "You have already withdrawn this post."
    if post.status not in (PUBLISHED, PENDING):
        return "This post was removed by a moderator, so it is already hidden from readers."
    return None


def can_see_post(user, post: Post) -> bool:
    """Pending posts are shown to their author and to moderators only; removed posts show as a placeholder."""
    if post.status != PENDING:
        return True
    return bool(user.is_authenticated and (user.is_moderator or user.id == post.author_id))


def can_see_topic(user, topic: Topic) -> bool:
    """Published topics for everyone; a held or removed topic for moderators and its own author.

    Why the author of a removed topic: the page shows them the moderator's
    reason on their first post, as it does for a removed reply, instead of a
    "not found" that tells them nothing.
    """
    if topic.status == PUBLISHED:
        return True
    if not user.is_authenticated:
        return False
    return user.is_moderator or (topic.status in (PENDING, REMOVED) and user.id == topic.author_id)
