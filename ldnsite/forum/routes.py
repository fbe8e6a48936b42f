"""Board pages and posting. URLs and field names are a contract (design.md)."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from ldnsite.accounts.suspensions import active_suspension
from ldnsite.db import get_session
from ldnsite.extensions import csrf, limiter, member_or_address_key
from ldnsite.forum import bp, follows, permissions, posting, queries
from ldnsite.forum.forms import AT_RISK, BODY_MAX, ActionOnlyForm, EditForm, ReplyForm, ReportForm, TopicForm
from ldnsite.forum.models import PUBLISHED, Post, Report, Topic
from ldnsite.paging import page_arg
from ldnsite.sanitising.posts import render_post
from ldnsite.security.errors import render_error

HELD_MESSAGE = (
    "Thank you. Your post is waiting for a moderator: only you can see it until it is approved. "
    "New members' first posts, and posts with links from members with no approved posts, are checked before they appear."
)
EDIT_HELD = (
    "Your changes have been saved. Because of what they add, the post is waiting for a moderator again: "
    "only you can see it until it is approved."
)
EDIT_LOST = (
    "Your changes were not saved: a moderator removed this post while you were editing it. "
    "Your text is still below, so you can copy it. The reason for the removal is shown with the post in its topic."
)
FORM_EXPIRED = (
    "This form had expired (forms last {hours} hours), so nothing was posted yet. Your text is kept below: check it, then send it again."
)
REPORT_THANKS = "Thank you for your report. A moderator will look at the post. The member who wrote it will not see who reported it."
REPORT_AT_RISK_THANKS = "Thank you for telling us. Moderators see reports that someone may be at risk first, marked urgent."
WITHDRAWN_MESSAGE = (
    "You withdrew your post. Readers now see “This post was withdrawn by its author.” "
    "Moderators can still read it for a while, as our privacy policy explains."
)
LANDING_KEY = "forum_landing"
HONEYPOT_MESSAGE = "Your post could not be accepted. If you are a person, please leave the last field empty and try again."


def _created(response) -> bool:
    """Only successful submissions count: a preview or a form sent back with errors costs nothing."""
    return response.status_code in (302, 303)


post_limit = limiter.shared_limit(
    lambda: current_app.config["FORUM_POST_RATE_LIMIT"],
    scope="forum-post",
    key_func=member_or_address_key,
    methods=["POST"],
    deduct_when=_created,
    error_message="You have posted a lot in a short time. Please wait a while, then try again: your text was not saved, "
    "so copy it somewhere first if you want to keep it.",
)


def _not_a_preview() -> bool:
    return not (request.method == "POST" and request.form.get("preview"))


preview_limit = limiter.shared_limit(
    lambda: current_app.config["FORUM_PREVIEW_RATE_LIMIT"],
    scope="forum-preview",
    key_func=member_or_address_key,
    methods=["POST"],
    exempt_when=_not_a_preview,
    error_message="You have asked for a lot of previews in a short time. Please wait a minute, then try again: "
    "your text was not saved, so copy it somewhere first if you want to keep it.",
)
report_limit = limiter.shared_limit(
    lambda: current_app.config["FORUM_REPORT_RATE_LIMIT"],
    scope="forum-report",
    key_func=member_or_address_key,
    methods=["POST"],
    deduct_when=_created,
    error_message="You have sent a lot of reports in a short time. Please wait a while before you send another. "
    "The moderators have the reports you already sent.",
)


def login_url(next_path: str) -> str:
    return "/account/login?" + urlencode({"next": next_path})


def member_required(view):
    """Anonymous readers are sent to sign in and brought back here afterwards."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            target = request.full_path if request.query_string else request.path
            return redirect(login_url(target))
        return view(*args, **kwargs)

    return wrapped


def _me():
    return current_user._get_current_object()


def _my_suspension(session):
    """The signed-in member's suspension in force, for the notice shown in place of the posting buttons."""
    return active_suspension(session, current_user.id) if current_user.is_authenticated else None


def _refuse_suspended(session):
    """A suspended member who opens a posting form gets the notice (end date, reason, appeal), with 403."""
    suspension = _my_suspension(session)
    if suspension is not None:
        return render_template("forum/suspended.html", suspension=suspension), 403
    return None


def _topic_or_404(session, topic_id: int) -> Topic:
    topic = session.get(Topic, topic_id)
    if topic is None or not permissions.can_see_topic(current_user, topic):
        abort(404)
    return topic


def _post_or_404(session, post_id: int) -> Post:
    post = session.get(Post, post_id)
    if post is None or not permissions.can_see_post(current_user, post) or not permissions.can_see_topic(current_user, post.topic):
        abort(404)
    return post


def post_location(post: Post) -> str:
    """Where a post is shown: its topic, on the right page, at its anchor."""
    page = queries.page_of_post(get_session(), current_user, post)
    return url_for("forum.topic", topic_id=post.topic_id, page=page if page > 1 else None, _anchor=f"post-{post.id}")


def _submission_key(form, me, target: str, *parts: str) -> str:
    return posting.submission_key(me, target, request.form.get("nonce"), request.form.get("csrf_token"), *parts)


# Views whose form is shown again, with what the member typed, when its CSRF token has expired.
_FORM_VIEWS = {"forum.new_topic", "forum.reply", "forum.edit", "forum.report"}


@bp.errorhandler(CSRFError)
def csrf_failed(err: CSRFError):
    """An expired form must not lose a long post written slowly: run the view again to show the form with the text.

    The view sees `g.form_expired` and answers 400 with the form filled in,
    before validating or saving anything.
    """
    if request.method == "POST" and request.endpoint in _FORM_VIEWS:
        g.form_expired = True
        try:
            return current_app.view_functions[request.endpoint](**(request.view_args or {}))
        except HTTPException as exc:
            return current_app.handle_http_exception(exc)
    return render_error(
        400, "The form had expired or did not come from this site, so nothing was saved. Go back, reload the page and try again."
    )


def _form_expired(template: str, form, **context):
    """The form again with the member's text and a clear message: nothing was saved."""
    if not g.get("form_expired"):
        return None
    hours = (current_app.config["WTF_CSRF_TIME_LIMIT"] or 0) // 3600
    form.form_errors.append(FORM_EXPIRED.format(hours=hours or "a few"))
    return render_template(template, form=form, preview=None, **context), 400


def land_on(post: Post, message: str, category: str = "success", crisis: bool = False):
    """Go to the post and say what happened there, inside the post the page jumps to.

    Why not a flash at the top: the page scrolls to the post's anchor, far
    below a message at the top, so the member would never see it.
    """
    flask_session[LANDING_KEY] = {"post": post.id, "message": message, "category": category, "crisis": crisis}
    return redirect(post_location(post))


def _landing_for(posts: list[Post]) -> dict | None:
    """The message for a post on this page; one for a post not shown here goes to the top instead."""
    landing = flask_session.pop(LANDING_KEY, None)
    if not landing:
        return None
    if any(p.id == landing.get("post") for p in posts):
        return landing
    flash(landing.get("message", ""), landing.get("category", "info"))
    return None


def _editor_response(template: str, form, status_if_valid: int = 200, **context):
    """Render a form again: with the preview when asked for, with errors (422) when invalid."""
    valid = form.validate()
    # Rendering is the costly part: an over-long body is refused before it is rendered.
    body = form.body.data or ""
    preview = render_post(body) if form.is_preview and body and len(body) <= BODY_MAX else None
    return render_template(template, form=form, preview=preview, **context), (status_if_valid if valid else 422)


# ---- reading -----------------------------------------------------------------------------


@bp.get("/")
def index():
    session = get_session()
    listing = queries.topic_list(session, current_user, page_arg())
    if listing is None:
        abort(404)
    return render_template("forum/index.html", listing=listing, suspension=_my_suspension(session))


@bp.get("/rules")
def rules():
    return render_template("forum/rules.html")


@bp.get("/t/<int:topic_id>")
def topic(topic_id: int):
    session = get_session()
    topic = _topic_or_404(session, topic_id)
    page = page_arg(default=None)
    if page is None:
        page = 1
        wanted = session.get(Post, request.args.get("post", 0, type=int) or 0)
        if wanted is not None and wanted.topic_id == topic.id and permissions.can_see_post(current_user, wanted):
            page = queries.page_of_post(session, current_user, wanted)
    listing = queries.topic_posts(session, current_user, topic, page)
    if listing is None:
        abort(404)
    me = _me() if current_user.is_authenticated else None
    editable = {p.id for p in listing.items if me is not None and permissions.refusal_to_edit(session, me, p) is None}
    reply_refusal = permissions.refusal_to_reply(session, me, topic) if me is not None else None
    reply_form = ReplyForm(formdata=None) if me is not None and reply_refusal is None and listing.page == listing.pages else None
    return render_template(
        "forum/topic.html",
        topic=topic,
        listing=listing,
        editable=editable,
        reply_form=reply_form,
        reply_refusal=reply_refusal,
        landing=_landing_for(listing.items),
        suspension=_my_suspension(session) if reply_refusal else None,
        following=follows.is_following(session, me.id, topic.id) if me is not None else None,
    )


@bp.get("/discuss/<slug>")
def discuss(slug: str):
    """ "Discuss this article": the page's topic if it has one, otherwise a new topic about it."""
    article = current_app.extensions["content"].get(slug)
    if article is None:
        abort(404)
    session = get_session()
    existing = queries.page_discussion(session, slug)
    if existing is not None:
        return redirect(url_for("forum.topic", topic_id=existing.id))
    if not current_user.is_authenticated:
        return redirect(login_url(request.path))
    own = queries.own_held_discussion(session, current_user.id, slug)
    if own is not None:
        return redirect(url_for("forum.topic", topic_id=own.id))
    return redirect(url_for("forum.new_topic", page_slug=slug))


# ---- writing -----------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@post_limit
@preview_limit
@member_required
def new_topic():
    session = get_session()
    me = _me()
    refusal = permissions.refusal_to_participate(session, me)
    if refusal:
        return _refuse_suspended(session) or abort(403, refusal)
    form = TopicForm()
    slug = (form.page_slug.data if request.method == "POST" else request.args.get("page_slug")) or None
    article = None
    if slug:
        article = current_app.extensions["content"].get(slug)
        if article is None:
            abort(400, "The article this discussion was for could not be found.")
        existing = queries.page_discussion(session, slug)
        if existing is not None:
            flash("This article already has a discussion: you can reply to it here.", "info")
            return redirect(url_for("forum.topic", topic_id=existing.id))
        own = queries.own_held_discussion(session, me.id, slug)
        if own is not None:
            flash("You have already started the discussion of this article: it is waiting for a moderator.", "info")
            return redirect(url_for("forum.topic", topic_id=own.id))
        if request.method == "GET":
            form.page_slug.data = slug
            form.title.data = f"Discussing: {article.title}"[:150]
    if request.method == "GET":
        return render_template("forum/new.html", form=form, preview=None, article=article)
    expired = _form_expired("forum/new.html", form, article=article)
    if expired:
        return expired
    if form.is_preview or not form.validate():
        return _editor_response("forum/new.html", form, article=article)
    if form.honeypot_filled:
        abort(400, HONEYPOT_MESSAGE)
    key = _submission_key(form, me, "topic", form.title.data, form.body.data)
    earlier = posting.post_by_key(session, key)
    if earlier is not None:
        return redirect(url_for("forum.topic", topic_id=earlier.topic_id))
    duplicate = posting.recent_duplicate_topic(session, me, form.title.data, form.body.data)
    if duplicate is not None:
        return redirect(url_for("forum.topic", topic_id=duplicate.id))
    try:
        topic, post = posting.create_topic(session, me, form.title.data, form.body.data, page_slug=slug, key=key)
        session.commit()
    except posting.Refused as refused:
        session.rollback()
        form.form_errors.append(str(refused))
        return render_template("forum/new.html", form=form, preview=None, article=article), 422
    except IntegrityError:  # the same form sent twice at once, or another member started this article's discussion
        session.rollback()
        earlier = posting.post_by_key(session, key)
        if earlier is not None:
            return redirect(url_for("forum.topic", topic_id=earlier.topic_id))
        existing = queries.page_discussion(session, slug) if slug else None
        if existing is None:
            raise
        flash("This article already has a discussion: you can reply to it here.", "info")
        return redirect(url_for("forum.topic", topic_id=existing.id))
    flash(HELD_MESSAGE if post.status != PUBLISHED else "Your topic has been posted.", "success")
    return redirect(url_for("forum.topic", topic_id=topic.id))


@bp.route("/t/<int:topic_id>/reply", methods=["GET", "POST"])
@post_limit
@preview_limit
@member_required
def reply(topic_id: int):
    session = get_session()
    topic = _topic_or_404(session, topic_id)
    me = _me()
    refusal = permissions.refusal_to_reply(session, me, topic)
    if refusal:
        return _refuse_suspended(session) or abort(403, refusal)
    form = ReplyForm()
    if request.method == "GET":
        return render_template("forum/reply.html", form=form, preview=None, topic=topic)
    expired = _form_expired("forum/reply.html", form, topic=topic)
    if expired:
        return expired
    if form.is_preview or not form.validate():
        return _editor_response("forum/reply.html", form, topic=topic)
    if form.honeypot_filled:
        abort(400, HONEYPOT_MESSAGE)
    key = _submission_key(form, me, f"reply:{topic.id}", form.body.data)
    duplicate = posting.post_by_key(session, key) or posting.recent_duplicate_reply(session, me, topic, form.body.data)
    if duplicate is not None:
        return redirect(post_location(duplicate))
    try:
        post = posting.create_reply(session, me, topic, form.body.data, key=key)
        session.commit()
    except posting.Refused as refused:
        session.rollback()
        form.form_errors.append(str(refused))
        return render_template("forum/reply.html", form=form, preview=None, topic=topic), 422
    except IntegrityError:  # the same form sent twice at once: the first one made the post
        session.rollback()
        duplicate = posting.post_by_key(session, key)
        if duplicate is None:
            raise
        return redirect(post_location(duplicate))
    return land_on(post, HELD_MESSAGE if post.status != PUBLISHED else "Your reply has been posted.")


@bp.route("/p/<int:post_id>/edit", methods=["GET", "POST"])
@post_limit
@preview_limit
@member_required
def edit(post_id: int):
    session = get_session()
    post = _post_or_404(session, post_id)
    refusal = permissions.refusal_to_edit(session, _me(), post)
    if refusal:
        abort(403, refusal)
    if request.method == "GET":
        form = EditForm(formdata=None, data={"body": post.body_source})
        return render_template("forum/edit.html", form=form, preview=None, post=post, topic=post.topic)
    form = EditForm()
    expired = _form_expired("forum/edit.html", form, post=post, topic=post.topic)
    if expired:
        return expired
    if form.is_preview or not form.validate():
        return _editor_response("forum/edit.html", form, post=post, topic=post.topic)
    if form.honeypot_filled:
        abort(400, HONEYPOT_MESSAGE)
    try:
        result = posting.edit_post(session, post, _me(), form.body.data)
    except posting.Refused as refused:
        session.rollback()
        form.form_errors.append(str(refused))
        return render_template("forum/edit.html", form=form, preview=None, post=post, topic=post.topic), 422
    if not result.saved:
        # A moderator removed the post while it was being edited: nothing is written, the text is kept on the page.
        session.refresh(post)
        form.form_errors.append(EDIT_LOST)
        return render_template("forum/edit.html", form=form, preview=None, post=post, topic=post.topic), 409
    session.commit()
    return land_on(post, EDIT_HELD if result.held else "Your changes have been saved.")


@bp.route("/p/<int:post_id>/withdraw", methods=["GET", "POST"])
@member_required
def withdraw(post_id: int):
    """GET: what withdrawing means, and the button. POST: withdraw (conditional on the post's state)."""
    session = get_session()
    post = _post_or_404(session, post_id)
    me = _me()
    refusal = permissions.refusal_to_withdraw(me, post)
    if refusal:
        abort(403, refusal)
    form = ActionOnlyForm()
    if request.method == "POST" and form.validate():
        if not posting.withdraw_post(session, post, me):
            session.refresh(post)
            abort(403, permissions.refusal_to_withdraw(me, post) or "This post could not be withdrawn. Nothing changed.")
        session.commit()
        return land_on(post, WITHDRAWN_MESSAGE)
    return render_template(
        "forum/withdraw.html",
        form=form,
        post=post,
        topic=post.topic,
        is_first=post.is_first,
        days=current_app.config["FORUM_WITHDRAWN_RETENTION_DAYS"],
    )


# ---- following -----------------------------------------------------------------------------


FOLLOW_MESSAGES = {
    True: ("You are following this topic: we will email you when someone replies.", "You were already following this topic."),
    False: ("You no longer follow this topic: we will not email you about its replies.", "You were not following this topic."),
}


@bp.post("/t/<int:topic_id>/follow")
@member_required
def follow(topic_id: int):
    return _set_following(topic_id, True)


@bp.post("/t/<int:topic_id>/unfollow")
@member_required
def unfollow(topic_id: int):
    return _set_following(topic_id, False)


def _set_following(topic_id: int, on: bool):
    """Follow or stop following; a repeated click changes nothing and says so."""
    session = get_session()
    topic = _topic_or_404(session, topic_id)
    changed = (follows.follow if on else follows.unfollow)(session, current_user.id, topic.id)
    session.commit()
    done, already = FOLLOW_MESSAGES[on]
    flash(done if changed else already, "success" if changed else "info")
    return redirect(url_for("forum.topic", topic_id=topic.id, _anchor="follow"))


@bp.route("/unfollow/<token>", methods=["GET", "POST"])
@csrf.exempt  # the link comes from an email, without a session: the signed token is the proof
def unfollow_by_email(token: str):
    """The "stop emails about this topic" link in reply emails. GET changes nothing; the button POSTs."""
    ids = follows.read_unfollow_token(token, current_app.config)
    session = get_session()
    topic = session.get(Topic, ids[1]) if ids else None
    if ids is None or topic is None:
        return render_template("forum/unfollow.html", bad_link=True, topic=None, token=token), 400
    if request.method == "POST":
        follows.unfollow(session, ids[0], topic.id)
        session.commit()
        return render_template("forum/unfollow.html", done=True, topic=topic, token=token)
    return render_template("forum/unfollow.html", topic=topic, token=token)


@bp.route("/p/<int:post_id>/report", methods=["GET", "POST"])
@report_limit
@member_required
def report(post_id: int):
    session = get_session()
    post = _post_or_404(session, post_id)
    if post.status != PUBLISHED or post.topic.status != PUBLISHED:
        abort(404)
    me = _me()
    if post.author_id == me.id:
        abort(403, "You cannot report your own post. You can edit it for a short time after posting, or ask a moderator for help.")
    refusal = permissions.refusal_to_participate(session, me)
    if refusal:
        return _refuse_suspended(session) or abort(403, refusal)
    already = "You have already reported this post. Thank you: a moderator will look at it, and reporting it again is not needed."
    if session.scalar(select(Report.id).where(Report.post_id == post.id, Report.reporter_id == me.id)) is not None:
        return land_on(post, already, "info")
    form = ReportForm()
    expired = _form_expired("forum/report.html", form, post=post, topic=post.topic) if request.method == "POST" else None
    if expired:
        return expired
    if request.method == "POST":
        if form.validate():
            session.add(Report(post_id=post.id, reporter_id=me.id, reason=form.label, category=form.category, details=form.detail_text))
            try:
                session.commit()
            except IntegrityError:  # the same report sent twice at once
                session.rollback()
                return land_on(post, already, "info")
            at_risk = form.category == AT_RISK
            return land_on(post, REPORT_AT_RISK_THANKS if at_risk else REPORT_THANKS, crisis=at_risk)
        return render_template("forum/report.html", form=form, post=post, topic=post.topic), 422
    return render_template("forum/report.html", form=form, post=post, topic=post.topic)
