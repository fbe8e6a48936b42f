"""Sign in and sign out."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ldnsite.accounts import bp, limits, passwords, sessions, validation
from ldnsite.accounts.forms import LoginForm
from ldnsite.db import get_session
from ldnsite.extensions import limiter
from ldnsite.security.redirects import safe_next

WRONG_CREDENTIALS = "Enter a correct email address and password"
DEFAULT_AFTER_LOGIN = "/forum/"


def rotate_session() -> None:
    """Empty the session, including the CSRF token Flask-WTF cached for this request.

    Why the cache too: it belongs to the old session, and a page rendered
    later in the same application context would otherwise carry a token the
    new session does not know.
    """
    session.clear()
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)


def sign_in(user) -> None:
    """Rotate the session, then sign in: nothing from before sign-in (a planted session) carries over."""
    rotate_session()
    login_user(user)
    sessions.start()
    g.pop("_session_ended", None)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(limits.LOGIN_PER_IP, methods=["POST"])
@limiter.limit(
    limits.LOGIN_PER_ACCOUNT_AND_IP,
    key_func=limits.submitted_email_and_ip_key,
    methods=["POST"],
    deduct_when=limits.failed_request,
    exempt_when=limits.trusted_device,
    scope="login-account-ip",
)
@limiter.limit(
    limits.LOGIN_PER_ACCOUNT,
    key_func=limits.submitted_email_key,
    methods=["POST"],
    deduct_when=limits.failed_request,
    exempt_when=limits.trusted_device,
    scope="login-account",
)
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(form.next.data or DEFAULT_AFTER_LOGIN)
    if form.validate_on_submit():
        try:
            email = validation.normalise_email(form.email.data)
        except validation.InvalidEmail:
            email = None
        user = validation.find_by_email(get_session(), email) if email else None
        # Always hash something, so an unknown address takes as long as a wrong password.
        password_ok = passwords.verify_password(user.password_hash if user else None, form.password.data)
        if user is not None and password_ok and user.is_active:
            sign_in(user)
            if user.verified_at is None:
                flash(
                    "You are signed in. Confirm your email address with the link we sent you before you post. "
                    "You can ask for a new link on your account page.",
                    "warning",
                )
            else:
                flash("You are signed in.", "success")
            response = redirect(safe_next(form.next.data) or DEFAULT_AFTER_LOGIN)
            limits.remember_device(response, form.email.data)
            return response
        form.email.errors = [WRONG_CREDENTIALS]
        form.password.errors = []
    form.password.data = ""
    status = 422 if form.errors else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        sessions.end(current_user._get_current_object())
    logout_user()
    rotate_session()
    flash("You have signed out.", "success")
    return redirect(url_for("content.home"))
