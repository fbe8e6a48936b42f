"""Changing the email address: ask with the password, confirm from the new mailbox, tell the old one.

Why the address only changes when the link is opened: the new address must
be one the member can read, or they could lock themselves out (and someone
could attach an account to another person's address). Why the old address
is told: a change made with a stolen password should not go unnoticed.

Why the form says when another account has the address: the register form
hides that, but this form needs a signed-in member who knows their password,
and it is rate limited like the other password checks.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from ldnsite.accounts import bp, emails, limits, mail_prefs, passwords, tokens, validation
from ldnsite.accounts.forms import ActionForm, ChangeEmailForm
from ldnsite.accounts.models import User
from ldnsite.db import get_session, utcnow

TAKEN = "Another account uses that email address. Use a different one"


@bp.route("/settings/email", methods=["GET", "POST"])
@login_required
@limits.sensitive_check_limit
def change_email():
    form = ChangeEmailForm()
    if form.validate_on_submit():
        db = get_session()
        new = form.email.data
        if not passwords.verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors = ["Your current password is not correct"]
        elif new == current_user.email:
            form.email.errors = ["That is already your email address. Enter a different one"]
        elif validation.find_by_email(db, new) is not None:
            form.email.errors = [TAKEN]
        elif mail_prefs.is_opted_out(db, new):
            form.email.errors = [
                "That address is on our opt-out list, so we cannot send it the link. "
                "Start emails again for it from the ‘Start emails again’ page first"
            ]
        else:
            emails.send_email_change(db, current_user._get_current_object(), new)
            db.commit()
            flash(
                f"We have sent a link to {new}. Open it within 48 hours to finish the change. "
                "Until then, keep signing in with your current address.",
                "success",
            )
            return redirect(url_for("accounts.settings"))
    form.current_password.data = ""
    return render_template("accounts/email.html", form=form), (422 if form.errors else 200)


def _user_for_token(token: str) -> tuple[User, dict] | None:
    data = tokens.read_email_change_token(token)
    if data is None:
        return None
    user = get_session().get(User, data["uid"])
    if user is None or not user.is_active or not tokens.email_change_token_matches(user, data):
        return None
    return user, data


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    """GET shows a button; POST changes the address (mail scanners open links, and a GET must change nothing)."""
    found = _user_for_token(token)
    if found is None:
        return render_template("accounts/email_change_invalid.html"), 400
    user, data = found
    form = ActionForm()
    if not form.validate_on_submit():
        if form.is_submitted():
            abort(400)
        return render_template("accounts/email_confirm.html", form=form, token=token, new_email=data["new"])
    db = get_session()
    old = user.email
    if validation.find_by_email(db, data["new"]) is not None:
        return render_template("accounts/email_change_invalid.html", taken=True), 409
    user.email = data["new"]
    user.verified_at = user.verified_at or utcnow()  # the link just proved the new mailbox
    try:
        db.flush()
    except IntegrityError:  # another account took the address a moment ago
        db.rollback()
        return render_template("accounts/email_change_invalid.html", taken=True), 409
    emails.send_email_changed(db, user, old)
    db.commit()
    return render_template("accounts/email_changed.html", new_email=user.email)
