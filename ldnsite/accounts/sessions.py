"""Sessions that end on the server: sign-out, sign-out everywhere, a longest lifetime.

Why: the session is a signed cookie, so without a record on the server a copy
of it (taken from a shared computer, a proxy log, malware) would keep working
after the member signed out. Each sign-in gives the session a random id; sign
out records that id as ended (EndedSession) and every request checks it.
"Sign out everywhere" bumps the member's session_version instead, which ends
every session at once, on every device. A session also ends by itself after
SESSION_MAX_AGE_DAYS, which bounds how long the ended-session rows are kept.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from flask import current_app, g, session
from sqlalchemy import delete

from ldnsite.accounts.models import EndedSession
from ldnsite.db import get_session, utcnow

SID = "sid"
SINCE = "since"


def start() -> None:
    """Called by sign-in, after the session was emptied: a fresh id and start time."""
    session[SID] = secrets.token_hex(16)
    session[SINCE] = int(time.time())


def _max_age() -> timedelta:
    return timedelta(days=float(current_app.config["SESSION_MAX_AGE_DAYS"]))


def session_ended() -> bool:
    """True when this request's session was signed out or is older than the longest lifetime."""
    if "_session_ended" in g:
        return g._session_ended
    sid, since = session.get(SID), session.get(SINCE)
    ended = False
    if isinstance(since, int) and time.time() - since > _max_age().total_seconds():
        ended = True
    elif isinstance(sid, str) and get_session().get(EndedSession, sid) is not None:
        ended = True
    g._session_ended = ended
    return ended


def end(user) -> None:
    """Sign-out: record this session as ended (a session from before ids existed ends all of them)."""
    db = get_session()
    sid = session.get(SID)
    if isinstance(sid, str):
        if db.get(EndedSession, sid) is None:
            db.add(EndedSession(sid=sid, ended_at=utcnow()))
    elif user is not None:
        user.session_version += 1
    db.execute(delete(EndedSession).where(EndedSession.ended_at < utcnow() - _max_age()))
    db.commit()


def end_everywhere(user) -> None:
    user.session_version += 1
    get_session().commit()
