"""The account page: display name, password, reply notifications and email preferences."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, logout_user
from sqlalchemy.exc import IntegrityError

from ldnsite.accounts import bp, limits, mail_prefs, passwords, sessions, validation
from ldnsite.accounts.forms import ActionForm, ChangePasswordForm, DisplayNameForm, NotificationsForm
from ldnsite.accounts.signin import rotate_session, sign_in
from ldnsite.db import get_session


def _render_settings(notifications_form: NotificationsForm | None = None, status: int = 200):
    if notifications_form is None:
        notifications_form = NotificationsForm(notify_replies=current_user.notify_replies)
    return render_template(
        "accounts/settings.html",
        notifications_form=notifications_form,
        action_form=ActionForm(),
        opted_out=mail_prefs.is_opted_out(get_session(), current_user.email),
    ), status


@bp.get("/settings")
@login_required
def settings():
    return _render_settings()


@bp.post("/settings/notifications")
@login_required
def notifications():
    form = NotificationsForm()
    if not form.validate_on_submit():
        return _render_settings(form, 422)
    current_user.notify_replies = bool(form.notify_replies.data)
    get_session().commit()
    flash("Reply notifications are now " + ("on." if current_user.notify_replies else "off."), "success")
    return redirect(url_for("accounts.settings"))


@bp.post("/settings/email-opt-out")
@login_required
def email_opt_out():
    """ "Stop all emails": the address goes on the opt-out list and mail not yet sent to it is cancelled."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    mail_prefs.opt_out(db, current_user.email)
    db.commit()
    flash("All emails from us are stopped. We will send this address nothing except password reset emails you ask for yourself.", "success")
    return redirect(url_for("accounts.settings", _anchor="emails"))


@bp.post("/settings/email-opt-in")
@login_required
def email_opt_in():
    """Opt a confirmed address back in at once. Why only confirmed: an unconfirmed
    account may not own the address, so it goes through /opt-out, which asks the
    real owner by email first."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.verified_at is None:
        abort(403)
    db = get_session()
    if mail_prefs.opt_back_in(db, current_user.email):
        db.commit()
        flash("You have opted back in. We will send emails to this address again.", "success")
    return redirect(url_for("accounts.settings"))


@bp.route("/settings/display-name", methods=["GET", "POST"])
@login_required
def change_display_name():
    form = DisplayNameForm(display_name=current_user.display_name)  # a submitted value takes precedence
    form.user_id = current_user.id
    if form.validate_on_submit():
        db = get_session()
        if form.display_name.data != current_user.display_name:
            current_user.display_name = form.display_name.data
            try:
                db.flush()  # the unique index decides a race the form's check could not see
            except IntegrityError:
                db.rollback()
                form.display_name.errors.append(validation.NAME_TAKEN)
                return render_template("accounts/display_name.html", form=form), 422
            db.commit()
        flash("Your display name has been changed.", "success")
        return redirect(url_for("accounts.settings"))
    return render_template("accounts/display_name.html", form=form), (422 if form.errors else 200)


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
@limits.sensitive_check_limit
def change_password():
    form = ChangePasswordForm()
    form.account_email, form.account_name = current_user.email, current_user.display_name
    if form.validate_on_submit():
        if not passwords.verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors = ["Your current password is not correct"]
        else:
            user = current_user._get_current_object()
            user.password_hash = passwords.hash_password(form.new_password.data)
            user.session_version += 1  # every other session ends
            get_session().commit()
            sign_in(user)  # this one goes on, under the new session version
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("accounts.settings"))
    form.current_password.data = form.new_password.data = ""
    return render_template("accounts/password.html", form=form), (422 if form.errors else 200)


@bp.post("/settings/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every session of this account, on every device, this one included."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    sessions.end_everywhere(current_user._get_current_object())
    logout_user()
    rotate_session()
    flash("You have been signed out on every device. Sign in again to go on.", "success")
    return redirect(url_for("accounts.login"))
