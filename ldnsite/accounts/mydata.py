"""A member's own data: download it, or delete the account.

Deletion keeps the posts (conversations would stop making sense without
them) but removes everything that identifies the person: the email address,
the display name (posts then show "Deleted member"), the password hash and
any mail still waiting to be sent to them. /privacy says the same.
"""

from __future__ import annotations

import json
from datetime import datetime

from flask import Response, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ldnsite.accounts import bp, limits, mail_prefs, passwords
from ldnsite.accounts.forms import DeleteAccountForm
from ldnsite.accounts.models import User
from ldnsite.accounts.settings import reindex_posts
from ldnsite.accounts.signin import rotate_session
from ldnsite.accounts.validation import DELETED_NAME
from ldnsite.db import get_session, utcnow
from ldnsite.forum.models import Post, PostRevision, Report, Topic, TopicFollow


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def export_data(db, user: User) -> dict:
    """Everything the site holds about the member, and nothing about anyone else."""
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
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role,
            "created_at": _when(user.created_at),
            "email_confirmed_at": _when(user.verified_at),
            "reply_notifications": user.notify_replies,
            "opted_out_of_email": mail_prefs.is_opted_out(db, user.email),
        },
        "topics_followed": [{"topic_id": f.topic_id, "since": _when(f.created_at)} for f in follows],
        "topics_started": [{"id": t.id, "title": t.title, "created_at": _when(t.created_at)} for t in topics],
        "posts": [
            {
                "id": post.id,
                "topic_id": post.topic_id,
                "topic_title": title,
                "status": post.status,
                "created_at": _when(post.created_at),
                "edited_at": _when(post.edited_at),
                "withdrawn_at": _when(post.withdrawn_at),
                "body_markdown": post.body_source,
                "earlier_versions": [{"saved_at": _when(r.created_at), "body_markdown": r.body_source}
                                     for r in revisions.get(post.id, [])],
            }
            for post, title in posts
        ],
        "reports_made": [
            {"post_id": r.post_id, "reason": r.reason, "category": r.category, "details": r.details,
             "created_at": _when(r.created_at), "outcome": r.resolution}
            for r in reports
        ],
        **_moderation_and_mail(db, user, post_ids, [t.id for t in topics]),
    }


def _moderation_and_mail(db, user: User, post_ids: list[int], topic_ids: list[int]) -> dict:
    """Suspensions, moderation decisions about the member or their posts, and the mail sent to them.

    Moderators are named by role only: who they are is not the member's data.
    """
    from sqlalchemy import and_, or_

    from ldnsite.mail.models import OutboundMessage
    from ldnsite.moderation.models import ModerationLog, Suspension

    suspensions = db.scalars(select(Suspension).where(Suspension.user_id == user.id).order_by(Suspension.id)).all()
    about = [and_(ModerationLog.target_type == "user", ModerationLog.target_id == user.id)]
    if post_ids:
        about.append(and_(ModerationLog.target_type == "post", ModerationLog.target_id.in_(post_ids)))
    if topic_ids:
        about.append(and_(ModerationLog.target_type == "topic", ModerationLog.target_id.in_(topic_ids)))
    log = db.scalars(select(ModerationLog).where(or_(*about)).order_by(ModerationLog.id)).all()
    removed = db.scalars(select(Post).where(Post.author_id == user.id, Post.removal_reason.is_not(None))
                         .order_by(Post.id)).all()
    mail = db.scalars(select(OutboundMessage).where(OutboundMessage.to_addr == user.email, OutboundMessage.to_addr != "")
                      .order_by(OutboundMessage.id)).all() if user.email else []
    return {
        "suspensions": [
            {"reason": s.reason, "from": _when(s.created_at), "until": _when(s.ends_at), "lifted_at": _when(s.lifted_at)}
            for s in suspensions
        ],
        "moderation_decisions": [
            {"action": e.action, "about": e.target_type, "id": e.target_id, "reason": e.reason,
             "at": _when(e.created_at), "by": "a moderator"}
            for e in log
        ],
        "removal_reasons": [{"post_id": p.id, "reason": p.removal_reason, "removed_at": _when(p.removed_at)}
                            for p in removed],
        "mail_sent_to_you": [
            {"subject": m.subject, "kind": m.category, "queued_at": _when(m.created_at), "sent_at": _when(m.sent_at),
             "text": m.text_body}
            for m in mail if m.cancelled_at is None or m.sent_at is not None
        ],
    }


@bp.get("/export")
@login_required
def export():
    data = export_data(get_session(), current_user)
    body = json.dumps({"exported_at": _when(utcnow()), **data}, indent=2, ensure_ascii=False)
    filename = f"ldn-guide-my-data-{utcnow():%Y-%m-%d}.json"
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    })


def delete_account(db, user: User) -> None:
    """Anonymise in place: the row stays so posts keep an author, but nothing identifies the person."""
    mail_prefs.forget(db, user.email, user.id)  # waiting mail cancelled; sent mail blanked and unlinked
    user.email = None
    user.display_name = DELETED_NAME
    user.display_name_key = None  # frees the old name, and deleted accounts do not collide
    user.password_hash = ""
    user.notify_replies = False
    user.role = "member"  # a deleted moderator must not be listed as staff
    user.deleted_at = utcnow()
    user.session_version += 1
    reindex_posts(db, user.id)


def purge_unconfirmed(db, older_than: datetime) -> tuple[int, int]:
    """Remove accounts whose address was never confirmed and that were created before older_than.

    Why: an unconfirmed account holds an address that may not be its
    owner's, and /privacy promises not to keep it. Such an account cannot
    post, but it may have reported a post; then it is anonymised like a
    deleted account instead, so the report keeps its row. Returns (removed,
    anonymised). The caller commits.
    """
    removed = anonymised = 0
    candidates = db.scalars(
        select(User).where(User.verified_at.is_(None), User.deleted_at.is_(None), User.created_at < older_than)
    ).all()
    for user in candidates:
        try:
            with db.begin_nested():
                mail_prefs.forget(db, user.email, user.id)
                db.delete(user)
            removed += 1
        except IntegrityError:  # something refers to the account
            delete_account(db, user)
            anonymised += 1
    return removed, anonymised


@bp.route("/delete", methods=["GET", "POST"])
@login_required
@limits.sensitive_check_limit
def delete():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if passwords.verify_password(current_user.password_hash, form.password.data):
            db = get_session()
            delete_account(db, current_user._get_current_object())
            db.commit()
            logout_user()
            rotate_session()
            flash("Your account has been deleted. Your posts now show as written by \u201cDeleted member\u201d.", "success")
            return redirect(url_for("content.home"))
        form.password.errors = ["Your password is not correct"]
    form.password.data = ""
    return render_template("accounts/delete.html", form=form), (422 if form.errors else 200)
