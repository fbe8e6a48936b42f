"""Moderation pages and actions under /moderation. Every action is a POST with a CSRF token.

Actions redirect (post/redirect/get) with a message saying what changed, or
that nothing did because another moderator got there first.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ldnsite.accounts.models import ROLES, User
from ldnsite.accounts.suspensions import active_suspension
from ldnsite.db import get_session
from ldnsite.forum.models import REMOVED, Post, Topic
from ldnsite.moderation import actions, bp, queries
from ldnsite.moderation.access import admin_required, moderator_required
from ldnsite.moderation.forms import (
    ActionForm,
    LogFilterForm,
    MemberSearchForm,
    RemoveForm,
    RoleForm,
    SuspendForm,
    WatchedWordForm,
)
from ldnsite.moderation.models import ModerationLog, WatchedWord
from ldnsite.moderation.watched_words import ACTION_LABELS
from ldnsite.paging import page_arg
from ldnsite.security.redirects import safe_next

UNPROCESSABLE = 422


def _get_or_404(model, ident: int):
    obj = get_session().get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _require_action_form() -> None:
    """CSRFProtect has already checked the token; this keeps every action a FlaskForm."""
    if not ActionForm().validate_on_submit():
        abort(400)


def _next(default: str) -> str:
    """Where to go after an action: the form's or the link's `next`, if it is a path on this site."""
    return safe_next(request.form.get("next") or request.args.get("next")) or default


def _report(outcome: actions.Outcome, default: str):
    flash(outcome.message, "success" if outcome.changed else "warning")
    return redirect(_next(default), code=303)


def _moderator() -> User:
    return current_user._get_current_object()


# ---- the queue -----------------------------------------------------------------------------


def queue_remove_form(post: Post) -> RemoveForm:
    """A removal form whose fields have ids unique to the post, for a page with many of them."""
    form = RemoveForm(formdata=None)
    for f in (form.reason, form.detail):
        f.id = f"{f.name}-{post.id}"
        f.label.field_id = f.id
    return form


@bp.get("/")
@moderator_required
def queue():
    session = get_session()
    page = page_arg()
    result = queries.queue_page(session, page)
    if page > result.pages:
        abort(404)
    return render_template("moderation/queue.html", result=result, remove_form=queue_remove_form)


# ---- posts ---------------------------------------------------------------------------------


@bp.route("/p/<int:post_id>/remove", methods=["GET", "POST"])
@moderator_required
def remove(post_id: int):
    session = get_session()
    post = _get_or_404(Post, post_id)
    form = RemoveForm()
    if form.validate_on_submit():
        return _report(actions.remove_post(session, post, _moderator(), form.reason_text()), url_for(".queue"))
    if request.method == "POST":
        if post.status == REMOVED:  # say "already removed" before complaining about the form
            return _report(actions.Outcome(False, "This post was already removed. Nothing changed."), url_for(".queue"))
        status = UNPROCESSABLE
    else:
        status = 200
    is_first = post.is_first
    replies = queries.reply_count(session, post.topic_id) if is_first else 0
    return render_template("moderation/remove.html", post=post, form=form, next=_next(""), is_first=is_first, replies=replies), status


@bp.post("/p/<int:post_id>/approve")
@moderator_required
def approve(post_id: int):
    post = _get_or_404(Post, post_id)
    _require_action_form()
    return _report(actions.approve_post(get_session(), post, _moderator()), url_for(".queue"))


@bp.post("/p/<int:post_id>/restore")
@moderator_required
def restore(post_id: int):
    post = _get_or_404(Post, post_id)
    _require_action_form()
    return _report(actions.restore_post(get_session(), post, _moderator()), url_for(".queue"))


@bp.post("/p/<int:post_id>/dismiss")
@moderator_required
def dismiss(post_id: int):
    post = _get_or_404(Post, post_id)
    _require_action_form()
    return _report(actions.dismiss_reports(get_session(), post, _moderator()), url_for(".queue"))


# ---- topics --------------------------------------------------------------------------------


@bp.post("/t/<int:topic_id>/lock")
@moderator_required
def lock(topic_id: int):
    topic = _get_or_404(Topic, topic_id)
    _require_action_form()
    return _report(actions.lock_topic(get_session(), topic, _moderator()), topic.url)


@bp.post("/t/<int:topic_id>/unlock")
@moderator_required
def unlock(topic_id: int):
    topic = _get_or_404(Topic, topic_id)
    _require_action_form()
    return _report(actions.unlock_topic(get_session(), topic, _moderator()), topic.url)


# ---- members -------------------------------------------------------------------------------


def _render_member(member: User, suspend_form: SuspendForm | None = None, role_form: RoleForm | None = None, status: int = 200):
    session = get_session()
    history = queries.author_histories(session, {member.id}).get(member.id)
    return render_template(
        "moderation/member.html",
        member=member,
        history=history,
        active=active_suspension(session, member.id),
        posts=queries.member_posts(session, member.id),
        suspensions=queries.member_suspensions(session, member.id),
        log_rows=queries.member_log(session, member.id),
        suspend_form=suspend_form or SuspendForm(formdata=None),
        role_form=role_form or RoleForm(formdata=None, role=member.role),
        action_form=ActionForm(formdata=None),
    ), status


@bp.get("/u/<int:user_id>")
@moderator_required
def member(user_id: int):
    return _render_member(_get_or_404(User, user_id))


@bp.post("/u/<int:user_id>/suspend")
@moderator_required
def suspend(user_id: int):
    member = _get_or_404(User, user_id)
    form = SuspendForm()
    valid = form.validate_on_submit()
    if valid and member.id == current_user.id:
        form.form_errors.append("You cannot suspend yourself.")
        valid = False
    elif valid and member.is_moderator:
        form.form_errors.append(f"{member.display_name} is a {member.role}. An admin must change their role to member first.")
        valid = False
    if not valid:
        return _render_member(member, suspend_form=form, status=UNPROCESSABLE)
    outcome = actions.suspend_member(get_session(), member, _moderator(), form.reason.data.strip(), form.days())
    return _report(outcome, url_for(".member", user_id=member.id))


@bp.post("/u/<int:user_id>/lift")
@moderator_required
def lift(user_id: int):
    member = _get_or_404(User, user_id)
    _require_action_form()
    return _report(actions.lift_suspension(get_session(), member, _moderator()), url_for(".member", user_id=member.id))


@bp.post("/u/<int:user_id>/role")
@admin_required
def role(user_id: int):
    member = _get_or_404(User, user_id)
    form = RoleForm()
    valid = form.validate_on_submit()
    if valid and member.id == current_user.id and form.role.data != "admin":
        # An admin demoting themselves could leave the site with no admin at all.
        form.role.errors = ["You cannot remove your own admin role. Ask another admin to do it."]
        valid = False
    if not valid:
        if not form.role.errors:
            form.role.errors = ["Choose one of: " + ", ".join(ROLES)]
        return _render_member(member, role_form=form, status=UNPROCESSABLE)
    return _report(actions.change_role(get_session(), member, _moderator(), form.role.data), url_for(".member", user_id=member.id))


@bp.get("/users")
@moderator_required
def members():
    form = MemberSearchForm(request.args)
    page = page_arg()
    q = (form.q.data or "").strip()[:254] if form.validate() else ""
    result = queries.member_search(get_session(), q, page)
    return render_template("moderation/members.html", form=form, q=q, result=result)


# ---- the log -------------------------------------------------------------------------------


@bp.get("/log")
@moderator_required
def log():
    session = get_session()
    form = LogFilterForm(request.args)
    form.set_choices(queries.log_moderators(session), queries.ACTION_LABELS)
    page = page_arg()
    if not form.validate():
        return render_template("moderation/log.html", form=form, result=None, filters={}), 400
    filters = {k: v for k, v in (("moderator", form.moderator.data), ("action", form.action.data)) if v}
    result = queries.log_page(session, page, int(form.moderator.data) if form.moderator.data else None, form.action.data or None)
    if page > result.pages:
        abort(404)
    return render_template("moderation/log.html", form=form, result=result, filters=filters)


# ---- watched words -------------------------------------------------------------------------


def _render_words(form: WatchedWordForm | None = None, status: int = 200):
    return render_template(
        "moderation/words.html",
        form=form or WatchedWordForm(formdata=None),
        words=queries.watched_words(get_session()),
        labels=ACTION_LABELS,
    ), status


@bp.route("/words", methods=["GET", "POST"])
@moderator_required
def words():
    if request.method == "GET":
        return _render_words()
    form = WatchedWordForm()
    if not form.validate():
        return _render_words(form, UNPROCESSABLE)
    outcome = actions.add_watched_word(get_session(), _moderator(), form.phrase.data, form.action.data, form.message.data)
    return _report(outcome, url_for(".words"))


@bp.post("/words/<int:word_id>/remove")
@moderator_required
def remove_word(word_id: int):
    _require_action_form()
    session = get_session()
    if (
        session.get(WatchedWord, word_id) is None
        and session.scalar(
            select(ModerationLog.id).where(ModerationLog.target_type == "watched_word", ModerationLog.target_id == word_id).limit(1)
        )
        is None
    ):
        abort(404)  # never existed; one removed already gets "already removed" below (a second click)
    return _report(actions.remove_watched_word(get_session(), _moderator(), word_id), url_for(".words"))
