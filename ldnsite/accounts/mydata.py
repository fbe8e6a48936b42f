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

from ldnsite import hooks
from ldnsite.accounts import bp, limits, mail_prefs, passwords
from ldnsite.accounts.forms import DeleteAccountForm
from ldnsite.accounts.models import Suspension, User
from ldnsite.accounts.signin import rotate_session
from ldnsite.accounts.validation import DELETED_NAME
from ldnsite.db import get_session, utcnow
from ldnsite.mail.models import OutboundMessage


def when(value: datetime | None) -> str | None:
    """Times in the export: ISO 8601 in UTC, to the second (the forum's and moderation's parts use it too)."""
    return value.isoformat(timespec="seconds") + "Z" if value else None


def export_data(db, user: User) -> dict:
    """Everything the site holds about the member, and nothing about anyone else.

    The forum and moderation add their parts through hooks.MEMBER_DATA: they sit above accounts.
    """
    data: dict = {
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role,
            "created_at": when(user.created_at),
            "email_confirmed_at": when(user.verified_at),
            "reply_notifications": user.notify_replies,
            "opted_out_of_email": mail_prefs.is_opted_out(db, user.email),
        },
    }
    for source in hooks.registered(hooks.MEMBER_DATA):
        data.update(source(db, user))
    suspensions = db.scalars(select(Suspension).where(Suspension.user_id == user.id).order_by(Suspension.id)).all()
    data["suspensions"] = [
        {"reason": s.reason, "from": when(s.created_at), "until": when(s.ends_at), "lifted_at": when(s.lifted_at)} for s in suspensions
    ]
    data["mail_sent_to_you"] = _mail_sent(db, user)
    return data


def _mail_sent(db, user: User) -> list[dict]:
    """The mail sent (or still to be sent) to the member's address; cancelled mail never sent is left out."""
    mail = (
        db.scalars(
            select(OutboundMessage).where(OutboundMessage.to_addr == user.email, OutboundMessage.to_addr != "").order_by(OutboundMessage.id)
        ).all()
        if user.email
        else []
    )
    return [
        {"subject": m.subject, "kind": m.category, "queued_at": when(m.created_at), "sent_at": when(m.sent_at), "text": m.text_body}
        for m in mail
        if m.cancelled_at is None or m.sent_at is not None
    ]


@bp.get("/export")
@login_required
def export():
    data = export_data(get_session(), current_user)
    body = json.dumps({"exported_at": when(utcnow()), **data}, indent=2, ensure_ascii=False)
    filename = f"ldn-guide-my-data-{utcnow():%Y-%m-%d}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


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


def purge_unconfirmed(db, older_than: datetime) -> tuple[int, int]:
    """Remove accounts whose address was never confirmed and that were created before older_than.

    Why: an unconfirmed account holds an address that may not be its
    owner's, and /privacy promises not to keep it. Such an account cannot
    post, but it may have reported a post; then it is anonymised like a
    deleted account instead, so the report keeps its row. Returns (removed,
    anonymised). The caller commits.
    """
    removed = anonymised = 0
    candidates = db.scalars(select(User).where(User.verified_at.is_(None), User.deleted_at.is_(None), User.created_at < older_than)).all()
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
