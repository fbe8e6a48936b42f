"""Read-only queries behind the moderation pages: the queue, member histories, the log.

Why they live apart from the views: a moderator decides from context (what
else this member has written, removed posts, earlier suspensions), and
gathering it for a whole page in a few grouped queries keeps the queue fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ldnsite.accounts.models import Suspension, User
from ldnsite.accounts.suspensions import active_condition, ending_last
from ldnsite.forum.forms import AT_RISK
from ldnsite.forum.models import PENDING, PUBLISHED, REMOVED, Post, Report, Topic, first_post_ids, topic_path
from ldnsite.moderation.models import ModerationLog, WatchedWord
from ldnsite.paging import PER_PAGE, Paginated, offset, page_count


@dataclass
class AuthorHistory:
    published: int = 0
    removed: int = 0
    suspensions: int = 0
    active_suspension: Suspension | None = None


@dataclass
class QueueItem:
    post: Post
    flagged_at: datetime
    is_first: bool
    reports: list[Report] = field(default_factory=list)
    history: AuthorHistory = field(default_factory=AuthorHistory)
    urgent: bool = False


def _open_reports():
    return (
        select(
            Report.post_id.label("post_id"),
            func.min(Report.created_at).label("first_report"),
            func.max(case((Report.category == AT_RISK, 1), else_=0)).label("at_risk"),
        )
        .where(Report.resolved_at.is_(None))
        .group_by(Report.post_id)
        .subquery()
    )


def _queue_condition(reports):
    """Held posts; published posts with open reports or marked urgent (someone may be at risk)."""
    return or_(
        Post.status == PENDING,
        and_(Post.status == PUBLISHED, or_(reports.c.post_id.is_not(None), Post.urgent_at.is_not(None), Post.flag_reason.is_not(None))),
    )


def queue_page(session: Session, page: int) -> Paginated:
    """Urgent posts first (someone may be at risk), then held and reported posts, oldest first:
    a held post by when it was written, a reported one by its first open report."""
    reports = _open_reports()
    urgent = or_(Post.urgent_at.is_not(None), reports.c.at_risk == 1)
    flagged_at = case(
        (Post.status == PENDING, Post.created_at),
        else_=func.coalesce(reports.c.first_report, Post.urgent_at, Post.edited_at, Post.created_at),
    )
    base = select(Post).outerjoin(reports, reports.c.post_id == Post.id).where(_queue_condition(reports))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    urgent_first = case((urgent, 0), else_=1)
    rows = session.execute(
        base.add_columns(flagged_at.label("flagged_at"), urgent_first.label("urgent_rank"))
        .options(selectinload(Post.topic), selectinload(Post.author))
        .order_by(urgent_first, flagged_at, Post.id)
        .limit(PER_PAGE)
        .offset(offset(page))
    ).all()
    urgent_ids = {post.id for post, _, rank in rows if rank == 0}
    rows = [(post, flagged) for post, flagged, _ in rows]
    post_ids = [post.id for post, _ in rows]
    topic_ids = {post.topic_id for post, _ in rows}
    firsts = {pid for _, pid in session.execute(first_post_ids(list(topic_ids)))} if rows else set()
    open_reports: dict[int, list[Report]] = {}
    if post_ids:
        for report in session.scalars(
            select(Report).where(Report.post_id.in_(post_ids), Report.resolved_at.is_(None)).order_by(Report.created_at, Report.id)
        ):
            open_reports.setdefault(report.post_id, []).append(report)
    reporters = _users(session, {r.reporter_id for rs in open_reports.values() for r in rs if r.reporter_id})
    histories = author_histories(session, {post.author_id for post, _ in rows if post.author_id})
    items = []
    for post, flagged in rows:
        item_reports = open_reports.get(post.id, [])
        for report in item_reports:
            report.reporter_name = reporters.get(report.reporter_id)  # type: ignore[attr-defined]
        items.append(
            QueueItem(
                post=post,
                flagged_at=flagged,
                is_first=post.id in firsts,
                reports=item_reports,
                history=histories.get(post.author_id, AuthorHistory()),
                urgent=post.id in urgent_ids,
            )
        )
    return Paginated(items=items, page=page, pages=page_count(total), total=total)


def _users(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def author_histories(session: Session, user_ids: set[int]) -> dict[int, AuthorHistory]:
    if not user_ids:
        return {}
    histories = {uid: AuthorHistory() for uid in user_ids}
    counts = session.execute(
        select(Post.author_id, Post.status, func.count())
        .where(Post.author_id.in_(user_ids), Post.status.in_((PUBLISHED, REMOVED)))
        .group_by(Post.author_id, Post.status)
    )
    for uid, status, count in counts:
        if status == PUBLISHED:
            histories[uid].published = count
        else:
            histories[uid].removed = count
    for uid, count in session.execute(
        select(Suspension.user_id, func.count()).where(Suspension.user_id.in_(user_ids)).group_by(Suspension.user_id)
    ):
        histories[uid].suspensions = count
    in_force: dict[int, list[Suspension]] = {}
    for suspension in session.scalars(select(Suspension).where(Suspension.user_id.in_(user_ids), active_condition())):
        in_force.setdefault(suspension.user_id, []).append(suspension)
    for uid, rows in in_force.items():
        histories[uid].active_suspension = ending_last(rows)
    return histories


def member_posts(session: Session, user_id: int, limit: int = 20) -> list[Post]:
    return list(
        session.scalars(
            select(Post).where(Post.author_id == user_id).options(selectinload(Post.topic)).order_by(Post.id.desc()).limit(limit)
        )
    )


def member_suspensions(session: Session, user_id: int) -> list[Suspension]:
    return list(
        session.scalars(
            select(Suspension)
            .where(Suspension.user_id == user_id)
            .options(selectinload(Suspension.moderator), selectinload(Suspension.lifted_by))
            .order_by(Suspension.id.desc())
        )
    )


def member_search(session: Session, q: str, page: int) -> Paginated:
    query = select(User).where(User.deleted_at.is_(None))
    if q:
        pattern = "%" + q.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # display_name_key is the case-folded name (SQLite's lower() folds ASCII only); emails are stored lower-case.
        query = query.where(
            or_(
                User.display_name_key.like(pattern, escape="\\"),
                func.lower(User.display_name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = list(session.scalars(query.order_by(User.display_name, User.id).limit(PER_PAGE).offset(offset(page))))
    return Paginated(items=users, page=page, pages=page_count(total), total=total)


# ---- the log -------------------------------------------------------------------------------

ACTION_LABELS = {
    "approve": "Approved post",
    "remove": "Removed post",
    "restore": "Restored post",
    "dismiss_reports": "Dismissed reports",
    "lock": "Locked topic",
    "unlock": "Unlocked topic",
    "suspend": "Suspended member",
    "lift_suspension": "Lifted suspension",
    "change_role": "Changed role",
    "add_watched_word": "Added watched word",
    "remove_watched_word": "Removed watched word",
}


@dataclass
class LogRow:
    entry: ModerationLog
    label: str
    target_label: str
    target_url: str | None


def log_moderators(session: Session) -> list[tuple[int, str]]:
    """Everyone who can moderate now or has a log entry, for the filter."""
    ids = set(session.scalars(select(ModerationLog.moderator_id).distinct()))
    rows = session.execute(
        select(User.id, User.display_name)
        .where(or_(User.id.in_(ids - {None}), User.role.in_(("moderator", "admin"))))
        .order_by(User.display_name, User.id)
    )
    return [(uid, name) for uid, name in rows]


def log_page(session: Session, page: int, moderator_id: int | None, action: str | None, target: tuple[str, int] | None = None) -> Paginated:
    query = select(ModerationLog)
    if moderator_id is not None:
        query = query.where(ModerationLog.moderator_id == moderator_id)
    if action:
        query = query.where(ModerationLog.action == action)
    if target:
        query = query.where(ModerationLog.target_type == target[0], ModerationLog.target_id == target[1])
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = list(
        session.scalars(
            query.options(selectinload(ModerationLog.moderator)).order_by(ModerationLog.id.desc()).limit(PER_PAGE).offset(offset(page))
        )
    )
    return Paginated(items=describe(session, entries), page=page, pages=page_count(total), total=total)


def member_log(session: Session, user_id: int, limit: int = 50) -> list[LogRow]:
    """Entries about this member or their posts."""
    post_ids = select(Post.id).where(Post.author_id == user_id)
    entries = list(
        session.scalars(
            select(ModerationLog)
            .where(
                or_(
                    and_(ModerationLog.target_type == "user", ModerationLog.target_id == user_id),
                    and_(ModerationLog.target_type == "post", ModerationLog.target_id.in_(post_ids)),
                )
            )
            .options(selectinload(ModerationLog.moderator))
            .order_by(ModerationLog.id.desc())
            .limit(limit)
        )
    )
    return describe(session, entries)


def describe(session: Session, entries: list[ModerationLog]) -> list[LogRow]:
    """Name each target in words with a link, loading all targets in three queries."""
    post_ids = {e.target_id for e in entries if e.target_type == "post"}
    topic_ids = {e.target_id for e in entries if e.target_type == "topic"}
    user_ids = {e.target_id for e in entries if e.target_type == "user"}
    posts = {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(post_ids)))} if post_ids else {}
    topic_ids |= {p.topic_id for p in posts.values()}
    topic_rows = session.execute(select(Topic.id, Topic.title, Topic.author_id).where(Topic.id.in_(topic_ids))).all() if topic_ids else []
    topics = {tid: title for tid, title, _ in topic_rows}
    topic_authors = {tid: author for tid, _, author in topic_rows}
    users = _users(session, user_ids | {p.author_id for p in posts.values() if p.author_id} | {a for a in topic_authors.values() if a})
    rows = []
    for e in entries:
        url = None
        if e.target_type == "post" and e.target_id in posts:
            post = posts[e.target_id]
            author = users.get(post.author_id, "a deleted member") if post.author_id else "a deleted member"
            text = f"Post by {author} from {post.created_at:%-d %b %Y %H:%M} in “{topics.get(post.topic_id, 'unknown topic')}”"
            url = post.url
        elif e.target_type == "topic":
            starter = topic_authors.get(e.target_id)
            text = f"Topic “{topics.get(e.target_id, e.target_id)}” started by {users.get(starter, 'a deleted member')}"
            url = topic_path(e.target_id)
        elif e.target_type == "watched_word":
            text = f"Watched word {e.reason or e.target_id}"
            url = url_for("moderation.words")
        elif e.target_type == "user":
            text = f"Member {users.get(e.target_id, e.target_id)}"
            url = url_for("moderation.member", user_id=e.target_id)
        else:
            text = f"{e.target_type} {e.target_id}"
        rows.append(LogRow(entry=e, label=ACTION_LABELS.get(e.action, e.action), target_label=text, target_url=url))
    return rows


def watched_words(session: Session) -> list:
    return list(session.scalars(select(WatchedWord).options(selectinload(WatchedWord.created_by)).order_by(WatchedWord.key)))


def reply_count(session: Session, topic_id: int) -> int:
    """Replies a moderator would remove with the topic's first post (all but the first, in any state)."""
    return max(0, (session.scalar(select(func.count()).select_from(Post).where(Post.topic_id == topic_id)) or 0) - 1)


def excerpt(text: str, limit: int = 160) -> str:
    """The start of a post, on one line, for lists where the whole post would be too long."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + "…"
