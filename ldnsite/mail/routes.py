"""Opt-out, one-click unsubscribe and opting back in.

Why the opt-out page never looks the address up: the same answer for every
address means nobody can use the form to learn who uses the site. Storing
the keyed hash is also what makes the opt-out work before any account or
email exists for that address.

Why /unsubscribe/<token> changes nothing on GET: mail scanners and link
previewers follow links. Only the POST (RFC 8058 one-click, or the button on
the page) unsubscribes, and it is exempt from CSRF because mail providers
send it without a session: the signed token is the proof.
"""

from __future__ import annotations

from flask import current_app, render_template, request

from ldnsite.db import get_session, utcnow
from ldnsite.extensions import csrf, limiter
from ldnsite.mail import bp
from ldnsite.mail.addresses import address_hash
from ldnsite.mail.forms import ConfirmForm, OptInForm, OptOutForm
from ldnsite.mail.mailer import queue
from ldnsite.mail.suppression import is_hash_suppressed, resubscribe_hash, suppress, suppress_hash
from ldnsite.mail.tokens import hash_from_opt_in_token, hash_from_unsubscribe_token, opt_in_token


def _form_limit() -> str:
    return current_app.config["MAIL_FORM_RATE_LIMIT"]


@bp.route("/opt-out", methods=["GET", "POST"])
@limiter.limit(_form_limit, methods=["POST"], scope="mail-opt-out")
def opt_out():
    form = OptOutForm()
    if form.validate_on_submit():
        session = get_session()
        suppress(session, form.email.data)
        session.commit()
        return render_template("optout/opt_out_done.html")
    return render_template("optout/opt_out.html", form=form), (422 if form.is_submitted() else 200)


def _bad_link(kind: str = "unsubscribe", expired: bool = False):
    return render_template("optout/bad_link.html", kind=kind, expired=expired), 400


@bp.get("/unsubscribe/<token>")
def unsubscribe_confirm(token: str):
    """The page behind the link in every email: a button, nothing changed yet."""
    if hash_from_unsubscribe_token(token, current_app.config) is None:
        return _bad_link()
    return render_template("optout/unsubscribe_confirm.html", token=token)


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe_one_click(token: str):
    """RFC 8058 one-click: body List-Unsubscribe=One-Click. Answers 200 (never a redirect), sets no cookie."""
    digest = hash_from_unsubscribe_token(token, current_app.config)
    if digest is None:
        return _bad_link()
    if request.form.get("List-Unsubscribe") != "One-Click":
        return render_template("optout/unsubscribe_confirm.html", token=token, missing_one_click=True), 400
    session = get_session()
    suppress_hash(session, digest)
    session.commit()
    return render_template("optout/unsubscribe_done.html")


@bp.route("/opt-in", methods=["GET", "POST"])
@limiter.limit(_form_limit, methods=["POST"], scope="mail-opt-in")
def opt_in():
    """Non-members opt back in by confirming from the mailbox (double opt-in).

    The email is sent only if the address is opted out (an address that is not
    gets no mail it did not ask for), but the answer is the same either way.
    """
    form = OptInForm()
    if form.validate_on_submit():
        session = get_session()
        address = form.email.data
        digest = address_hash(address, current_app.config)
        # An address that is not opted out gets a decoy: the same work, never sent, so the
        # answer's timing does not reveal who is on the opt-out list.
        decoy = not is_hash_suppressed(session, digest)
        site_url = current_app.config["SITE_URL"]
        queue(
            session,
            to=address,
            subject=f"Confirm: start emails from {current_app.config['SITE_NAME']} again",
            template="mail_opt_in",
            context={"confirm_url": f"{site_url}/opt-in/{opt_in_token(address, current_app.config)}"},
            category="opt_in",
            # At most one confirmation an hour per address, however often the form is sent.
            dedupe_key=f"opt-in:{digest}:{utcnow():%Y%m%d%H}",
            decoy=decoy,
        )
        session.commit()
        return render_template("optout/opt_in_sent.html")
    return render_template("optout/opt_in.html", form=form), (422 if form.is_submitted() else 200)


@bp.route("/opt-in/<token>", methods=["GET", "POST"])
def opt_in_confirm(token: str):
    """GET shows a button (link scanners change nothing); POST removes the address from the opt-out list."""
    digest, expired = hash_from_opt_in_token(token, current_app.config)
    if digest is None:
        return _bad_link("opt-in", expired)
    form = ConfirmForm()
    if form.validate_on_submit():
        session = get_session()
        resubscribe_hash(session, digest)
        session.commit()
        return render_template("optout/opt_in_done.html")
    return render_template("optout/opt_in_confirm.html", form=form, token=token)
