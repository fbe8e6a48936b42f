"""Every mail page, in each of its states, is valid HTML (Nu HTML Checker via its local service: tests/html_checker.py)."""

from __future__ import annotations

import re

from ldnsite.db import get_session
from ldnsite.mail.suppression import suppress
from ldnsite.mail.tokens import opt_in_token, unsubscribe_url
from tests.conftest import csrf_from, post_form


def test_mail_pages_are_valid_html(nu_checker, app, client, outbox, tmp_path):
    with app.app_context():
        session = get_session()
        suppress(session, "out@example.com")
        session.commit()
        unsub = unsubscribe_url("reader@example.com", app.config).removeprefix(app.config["SITE_URL"])
        opt_in = f"/opt-in/{opt_in_token('out@example.com', app.config)}"
    fresh = app.test_client()
    pages = {
        "opt-out": client.get("/opt-out"),
        "opt-out-error": post_form(client, "/opt-out", {"email": "nope"}),
        "opt-out-done": post_form(client, "/opt-out", {"email": "a@example.com"}),
        "unsubscribe": fresh.get(unsub),
        "unsubscribe-missing-body": fresh.post(unsub),
        "unsubscribe-done": fresh.post(unsub, data={"List-Unsubscribe": "One-Click"}),
        "bad-link": fresh.get("/unsubscribe/xyz"),
        "opt-in": client.get("/opt-in"),
        "opt-in-error": post_form(client, "/opt-in", {"email": ""}),
        "opt-in-sent": post_form(client, "/opt-in", {"email": "out@example.com"}),
        "opt-in-confirm": client.get(opt_in),
        "opt-in-expired": client.get(opt_in[:-3] + "abc"),
    }
    pages["opt-in-done"] = client.post(opt_in, data={"csrf_token": csrf_from(pages["opt-in-confirm"].get_data(as_text=True))})
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert html.count("<h1") == 1, name
        assert re.search(r'<nav class="breadcrumb"', html), name
        (tmp_path / f"{name}.html").write_text(html)
    (msg,) = outbox.to("out@example.com")
    (tmp_path / "mail-opt-in.html").write_text(msg.get_body(("html",)).get_content())
    problems = nu_checker.check_folder(tmp_path)
    assert not problems, "Nu HTML Checker found:\n" + "\n".join(problems)
