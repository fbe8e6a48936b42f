"""Error pages: every error a reader can meet is a page in the site layout, in plain words,
with the right status code and never a stack trace, exception text or SQL.

A few routes exist only in this module's app, to make the errors that no public route
makes on demand (403, 429, 500).
"""

from __future__ import annotations

import pytest
from flask import abort, request

from ldnsite.extensions import limiter

SECRET = "SELECT password_hash FROM users WHERE id = 1"


@pytest.fixture
def app_config(app_config):
    # Limits on, as in production; the test routes below are the only limited ones used here.
    return {**app_config, "RATELIMIT_ENABLED": True, "PROPAGATE_EXCEPTIONS": False, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def app(app):
    def forbidden():
        abort(403)

    def explode():
        raise RuntimeError(SECRET)

    def echo():
        return {"size": len(request.form.get("body", ""))}

    @limiter.limit("2 per minute")
    def limited():
        return "ok"

    app.add_url_rule("/_test/forbidden", view_func=forbidden)
    app.add_url_rule("/_test/explode", view_func=explode)
    app.add_url_rule("/_test/echo", view_func=echo, methods=["POST"])
    app.add_url_rule("/_test/limited", view_func=limited)
    return app


def assert_error_page(response, status: int, heading: str) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1 and heading in html
    # The site layout: skip link, header navigation, footer.
    for landmark in ('class="skip-link"', 'aria-label="Main"', 'class="site-footer"', '<main id="maincontent"'):
        assert landmark in html, landmark
    for leak in ("Traceback", "File &#34;", 'File "', "werkzeug", "sqlalchemy", "RuntimeError", SECRET, "The CSRF token is missing"):
        assert leak not in html, f"error page leaks {leak!r}"
    assert "Content-Security-Policy" in response.headers
    return html


def test_404_page(client):
    html = assert_error_page(client.get("/treatments/no-such-thing"), 404, "Page not found")
    assert 'href="/"' in html


def test_400_when_a_form_comes_without_its_csrf_token(client):
    html = assert_error_page(client.post("/_test/echo", data={"body": "hello"}), 400, "Something was wrong")
    assert "nothing was saved" in html


def test_403_page(client):
    assert_error_page(client.get("/_test/forbidden"), 403, "You do not have permission")


def test_405_page_names_the_allowed_methods(client):
    response = client.post("/about")
    assert_error_page(response, 405, "not allowed")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


def test_413_page_for_an_oversized_form(app, client):
    body = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    assert_error_page(client.post("/_test/echo", data={"body": body}), 413, "too large")


def test_429_page_when_a_limit_is_hit(client):
    assert client.get("/_test/limited").status_code == 200
    assert client.get("/_test/limited").status_code == 200
    response = client.get("/_test/limited")
    assert_error_page(response, 429, "Too many attempts")
    assert "Retry-After" in response.headers


def test_500_page_hides_the_exception(client):
    assert_error_page(client.get("/_test/explode"), 500, "Sorry, there is a problem")


def test_500_is_logged_for_operators(client, caplog):
    client.get("/_test/explode")
    assert any(SECRET in (r.exc_text or "") or (r.exc_info and SECRET in str(r.exc_info[1])) for r in caplog.records)


def test_errors_answer_json_to_json_clients(client):
    response = client.get("/treatments/no-such-thing", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"] == "Page not found"
    response = client.get("/_test/explode", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert SECRET not in response.get_data(as_text=True)


@pytest.fixture
def database_down(app, tmp_path):
    """Point the app at a database that cannot be opened, as when the server is unreachable."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_text("a file where the database's folder should be")

    def go():
        broken = create_engine(f"sqlite:///{not_a_folder}/open.db")
        app.extensions["db_engine"] = broken
        app.extensions["db_sessionmaker"] = sessionmaker(bind=broken)

    return go


def test_database_down_for_a_signed_in_member_still_gets_a_plain_error_page(client, make_user, database_down):
    user = make_user()
    with client.session_transaction() as s:
        s["_user_id"] = f"{user.id}:{user.session_version}"
    database_down()
    response = client.get("/about")  # loading the member needs the database
    assert response.status_code == 503  # the database is unavailable: try again, not a fault of the site
    assert response.headers["Retry-After"] == "5"
    html = response.get_data(as_text=True)
    assert "The site is busy for a moment" in html and html.count("<h1") == 1
    assert 'class="skip-link"' in html and 'lang="en-GB"' in html
    for leak in ("Traceback", "OperationalError", "sqlite", "open.db"):
        assert leak not in html
    assert "Content-Security-Policy" in response.headers


def test_healthz_says_503_when_the_database_is_down(client, database_down):
    database_down()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}
