"""Register, confirm the email address, and ask for a new confirmation link.

Why the same "check your email" page for new and known addresses: the form
must not tell anyone whether an address has an account. The owner of a known
address gets an email saying so instead of a second account.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from ldnsite.accounts import bp, emails, limits, mail_prefs, passwords, tokens, validation
from ldnsite.accounts.forms import ActionForm, RegisterForm
from ldnsite.accounts.models import User
from ldnsite.accounts.signin import sign_in
from ldnsite.db import get_session, utcnow
from ldnsite.extensions import limiter, member_or_address_key


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(limits.REGISTER_PER_IP, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.settings"))
    form = RegisterForm()
    if form.validate_on_submit():
        if form.website.data:
            # A bot filled the hidden field: answer as if it worked, store nothing.
            return redirect(url_for("accounts.check_email"))
        db = get_session()
        # Hashed on both paths, so the response time does not tell whether the address is known.
        password_hash = passwords.hash_password(form.password.data)
        existing = validation.find_by_email(db, form.email.data)
        if existing is not None:
            emails.send_already_registered(db, existing)
            db.commit()
            return redirect(url_for("accounts.check_email"))
        user = User(email=form.email.data, display_name=form.display_name.data, password_hash=password_hash)
        db.add(user)
        try:
            db.flush()  # the id goes into the confirmation link
            emails.send_verification(db, user)
            db.commit()
        except IntegrityError:
            db.rollback()
            if validation.find_by_email(db, form.email.data) is None:
                # Not the address: another request took the display name a moment ago.
                form.display_name.errors.append(validation.NAME_TAKEN)
                form.password.data = ""
                return render_template("accounts/register.html", form=form), 422
            # The same address registered a moment ago in another request: same answer.
        return redirect(url_for("accounts.check_email"))
    form.password.data = ""
    return render_template("accounts/register.html", form=form), (422 if form.errors else 200)


@bp.get("/register/check-email")
def check_email():
    return render_template("accounts/check_email.html")


def _user_for_verify_token(token: str) -> User | None:
    data = tokens.read_verify_token(token)
    if data is None:
        return None
    user = get_session().get(User, data["uid"]) if isinstance(data["uid"], int) else None
    if user is None or not user.is_active or user.email != data["email"]:
        return None
    return user


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify(token: str):
    """GET shows a button; POST confirms. Why two steps: link scanners in mail
    systems open every link, and a GET must never change anything."""
    user = _user_for_verify_token(token)
    if user is None:
        return render_template("accounts/verify_invalid.html"), 400
    if user.verified_at is not None:
        return render_template("accounts/verify_done.html", already=True)
    form = ActionForm()
    if form.validate_on_submit():
        user.verified_at = utcnow()
        get_session().commit()
        # The link proved the mailbox, once: sign its owner in, so they can post straight away.
        # (A confirmed address's link signs nobody in: see the `already` branch above.)
        if not current_user.is_authenticated or current_user.id != user.id:
            sign_in(user)
        return render_template("accounts/verify_done.html", already=False)
    return render_template("accounts/verify.html", form=form, token=token)


@bp.post("/verify/resend")
@login_required
@limiter.limit(limits.RESEND_PER_ACCOUNT, key_func=member_or_address_key)
def resend_verification():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    if current_user.verified_at is not None:
        flash("Your email address is already confirmed.", "info")
    elif mail_prefs.is_opted_out(db, current_user.email):
        flash("Your address is on our opt-out list, so we could not send a link. Opt back in first.", "warning")
    else:
        emails.send_verification(db, current_user._get_current_object())
        db.commit()
        flash("We have sent a new link to your email address. It works for 48 hours.", "success")
    return redirect(url_for("accounts.settings"))
