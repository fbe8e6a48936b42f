"""Forgotten password: ask for a link by email, then choose a new password.

The request page answers the same for known and unknown addresses. A reset
link lasts an hour and works once: it carries a fingerprint of the password
hash and session version, and using it changes both.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from ldnsite.accounts import bp, emails, limits, passwords, tokens, validation
from ldnsite.accounts.forms import ResetPasswordForm, ResetRequestForm
from ldnsite.accounts.models import User
from ldnsite.db import get_session, utcnow
from ldnsite.extensions import limiter


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(limits.RESET_PER_IP, methods=["POST"])
@limiter.limit(limits.RESET_PER_ACCOUNT, key_func=limits.submitted_email_key, methods=["POST"], scope="reset-account")
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        db = get_session()
        user = validation.find_by_email(db, form.email.data)
        # An unknown or closed account gets a decoy that costs the same and is never sent.
        emails.send_password_reset(db, user if user is not None and user.is_active else None, form.email.data)
        db.commit()
        return redirect(url_for("accounts.reset_sent"))
    return render_template("accounts/reset_request.html", form=form), (422 if form.errors else 200)


@bp.get("/reset/sent")
def reset_sent():
    return render_template("accounts/reset_sent.html")


def _user_for_reset_token(token: str) -> User | None:
    found = tokens.reset_token_user_id(token)
    if found is None:
        return None
    user = get_session().get(User, found[0])
    if user is None or not user.is_active or not tokens.reset_token_matches(user, found[1]):
        return None
    return user


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(limits.RESET_PER_IP, methods=["POST"], scope="reset-password")
def reset_password(token: str):
    user = _user_for_reset_token(token)
    if user is None:
        return render_template("accounts/reset_invalid.html"), 400
    form = ResetPasswordForm()
    form.account_email, form.account_name = user.email, user.display_name
    if form.validate_on_submit():
        user.password_hash = passwords.hash_password(form.new_password.data)
        user.session_version += 1  # signs out every other session, and spends this link
        if user.verified_at is None:
            # The link reached the inbox, which proves the address as well as a confirmation link would.
            user.verified_at = utcnow()
        emails.send_password_changed(get_session(), user)
        get_session().commit()
        flash("Your password has been changed. Sign in with your new password.", "success")
        response = redirect(url_for("accounts.login"))
        # The link reached the mailbox: this browser is the owner's, whatever strangers tried meanwhile.
        limits.remember_device(response, user.email)
        return response
    form.new_password.data = ""
    return render_template("accounts/reset_password.html", form=form, token=token), (422 if form.errors else 200)
