"""Error pages in the site layout. No stack trace or SQL ever reaches a reader."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, SecurityError

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Something was wrong with that request", "Please go back, check what you entered and try again."),
    403: ("You do not have permission to do that", "If you think you should, sign in with the right account or contact the moderators."),
    404: ("Page not found", "If you typed the web address, check it is correct. If you pasted it, check you copied the whole address."),
    405: ("That action is not allowed here", "Please use the links and buttons on the site."),
    413: ("What you sent is too large", "Please shorten it and try again."),
    429: ("Too many attempts", "Please wait a few minutes and try again."),
    500: ("Sorry, there is a problem with the site", "Please try again later. Nothing you entered has been saved."),
    503: ("The site is busy for a moment", "Please try again in a few seconds. Nothing you sent has been saved yet."),
}
# The database could not answer now (SQLite's lock timeout, a PostgreSQL restart or failover, a
# full connection pool): a moment later it will, so this is a 503 to retry, not a 500.
DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError)
DATABASE_RETRY_AFTER = 5
SECRET_FIELDS = ("password", "csrf_token", "token")


def render_error(code: int, detail: str | None = None, kept: list[tuple[str, str]] | None = None, plain: bool = False) -> Response:
    title, advice = MESSAGES.get(code, MESSAGES[500])
    if request.accept_mimetypes.best == "application/json" or request.args.get("format") == "json":
        return make_response(jsonify(error=title, detail=detail or advice), code)
    context = {"code": code, "title": title, "advice": advice, "detail": detail, "kept": kept or [], "retry_url": request.path}
    if not plain:
        try:
            return make_response(render_template("errors/error.html", **context), code)
        except Exception:  # the layout itself failed, e.g. the database is down and the header needs the member
            log.exception("error page could not use the site layout")
    try:
        # Straight from the Jinja environment: render_template's context processors
        # would ask for the signed-in member, and that is what may have failed.
        html = current_app.jinja_env.get_template("errors/plain.html").render(**context)
        return make_response(html, code)
    except Exception:
        log.exception("plain error page failed too")
        return Response(_LAST_RESORT.format(title=escape(title), advice=escape(advice)), code, mimetype="text/html")


_LAST_RESORT = (
    '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{title}</title></head>'
    '<body><main><h1>{title}</h1><p>{advice}</p><p><a href="/">Go to the home page</a></p></main></body></html>'
)


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(err: CSRFError):
        return render_error(
            400,
            "The form had expired or did not come from this site, so nothing was saved. Go back, reload the page and try again.",
        )

    @app.errorhandler(SecurityError)
    def untrusted_host(err: SecurityError):
        """A Host the site does not serve (TRUSTED_HOSTS): no URL can be built for it, so no layout either."""
        title, advice = MESSAGES[400]
        return Response(_LAST_RESORT.format(title=escape(title), advice=escape(advice)), 400, mimetype="text/html")

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if err.code is None or err.code < 400:
            return err
        response = render_error(err.code if err.code in MESSAGES else 500, _safe_detail(err))
        if err.code == 405 and err.valid_methods:
            response.headers["Allow"] = ", ".join(err.valid_methods)
        return response

    def database_unavailable(err: Exception):
        """503 with Retry-After, and the reader's typed text on the page, ready to send again."""
        cause = getattr(err, "orig", None) or err
        first_line = (str(cause).splitlines() or [""])[0][:200]  # never the SQL or its parameters
        log.warning("database unavailable, answered 503 for %s %s: %s: %s", request.method, request.path, type(cause).__name__, first_line)
        session = g.pop("db_session", None)
        if session is not None:
            try:
                session.close()
            except Exception as close_error:  # noqa: BLE001 - the connection may be gone; the pool replaces it
                log.info("database session could not be closed cleanly: %s", type(close_error).__name__)
        # The page without the layout: the header would ask the database for the member again.
        response = render_error(503, kept=_typed_fields(), plain=True)
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response

    for exc_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(exc_class, database_unavailable)

    @app.errorhandler(Exception)
    def unhandled(err: Exception):
        log.exception("unhandled error", exc_info=err)
        return render_error(500)


def _typed_fields() -> list[tuple[str, str]]:
    """What the reader typed into a form that could not be saved, minus passwords and tokens."""
    if request.method != "POST":
        return []
    return [
        (name, value)
        for name, value in request.form.items(multi=True)
        if value.strip() and not any(secret in name.lower() for secret in SECRET_FIELDS)
    ][:10]


def _safe_detail(err: HTTPException) -> str | None:
    """Only messages the site itself wrote for readers are shown (abort(404, "...")).

    Werkzeug's default descriptions are generic and technical, so they are not shown.
    """
    default = type(err).description
    return None if err.description == default else err.description
