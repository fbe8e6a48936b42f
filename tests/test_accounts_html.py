"""Every account page, in its normal and its error state, is valid HTML (Nu HTML Checker via its local service: tests/html_checker.py)."""

from __future__ import annotations

from tests.conftest import post_form


def test_account_pages_are_valid_html(nu_checker, app, client, make_user, auth, register, outbox, tmp_path):
    pages: dict[str, bytes] = {}

    def keep(name: str, response, status: int = 200) -> None:
        assert response.status_code == status, name
        pages[name] = response.data

    keep("register", client.get("/account/register"))
    keep("register-errors", post_form(client, "/account/register", {"email": "x", "display_name": "", "password": "a"}), 422)
    keep("check-email", client.get("/account/register/check-email"))
    register(email="fresh@example.com", display_name="Fresh")
    verify_link = outbox.link(outbox.messages(to="fresh@example.com")[0], "/account/verify/")
    keep("verify", client.get(verify_link))
    keep("verify-invalid", client.get("/account/verify/nonsense"), 400)
    keep("login", client.get("/account/login"))
    keep("login-errors", post_form(client, "/account/login", {"email": "a@example.com", "password": "wrong one"}), 422)
    keep("reset", client.get("/account/reset"))
    keep("reset-errors", post_form(client, "/account/reset", {"email": "nope"}), 422)
    keep("reset-sent", client.get("/account/reset/sent"))
    keep("reset-invalid", client.get("/account/reset/nonsense"), 400)
    make_user(verified=False)
    auth.login()
    keep("settings", client.get("/account/settings"))
    keep("display-name", client.get("/account/settings/display-name"))
    keep("display-name-errors", post_form(client, "/account/settings/display-name", {"display_name": "x"}), 422)
    keep("password", client.get("/account/settings/password"))
    keep("password-errors", post_form(client, "/account/settings/password", {"current_password": "", "new_password": ""}), 422)
    keep("email", client.get("/account/settings/email"))
    keep("email-errors", post_form(client, "/account/settings/email", {"email": "x", "current_password": ""}), 422)
    post_form(client, "/account/settings/email", {"email": "moved@example.com", "current_password": "correct horse battery"})
    change_link = outbox.link(outbox.messages(to="moved@example.com")[0], "/account/email/confirm/")
    keep("email-confirm", client.get(change_link))
    keep("email-invalid", client.get("/account/email/confirm/nonsense"), 400)
    keep("delete", client.get("/account/delete"))
    keep("delete-errors", post_form(client, "/account/delete", {"password": ""}), 422)

    out = tmp_path / "html"
    out.mkdir()
    for name, body in pages.items():
        (out / f"{name}.html").write_bytes(body)
    problems = nu_checker.check_folder(out)
    assert not problems, "Nu HTML Checker found:\n" + "\n".join(problems)
