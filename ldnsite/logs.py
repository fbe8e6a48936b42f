"""Logging: one format, a request id on every line, and no email addresses or tokens.

Why a request id: one request can log from several modules (a refused
delivery, then the error page); the id ties those lines together, and the
same id is sent back in the `X-Request-Id` header of every response no shared
cache may keep (a proxy's id is
kept when it sends a well-formed one), so a reader's report can be matched
to its lines.

Why redact at record creation (a log record factory) rather than in a
handler's filter: addresses reach log lines from many places (an SMTP
server's refusal quotes the recipient, a database error quotes its
parameters, a traceback quotes both) and tokens from request paths (an
unsubscribe or password-reset link), and /privacy promises logs hold
neither. A filter on one handler would miss the others (gunicorn's access
log, a test's capture); a record rewritten as it is made reaches every
handler already clean.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
import uuid

from flask import Flask, Response, g, has_request_context, request

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
NO_REQUEST = "-"
REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")

ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
# The site's emailed links carry their token as the last path segment.
_TOKEN_PATH = re.compile(r"(/(?:unsubscribe|opt-in|unfollow|confirm|verify|reset)/)[^/\s?#\"'<>]+")
# An itsdangerous token anywhere else: payload[.timestamp].signature, the signature 27 base64url characters.
_SIGNED = re.compile(r"(?<![A-Za-z0-9_.-])\.?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?\.[A-Za-z0-9_-]{27}(?![A-Za-z0-9_-])")
_SECRET_PARAM = re.compile(r"\b((?:token|csrf_token|password|secret)=)[^&\s\"']+", re.IGNORECASE)
ADDRESS_PLACEHOLDER = "<address>"
TOKEN_PLACEHOLDER = "<token>"  # noqa: S105 - the text put in place of a token

_handler: logging.Handler | None = None


def redact(text: str) -> str:
    """The text with every email address and token replaced by a placeholder."""
    text = ADDRESS.sub(ADDRESS_PLACEHOLDER, text)
    text = _TOKEN_PATH.sub(rf"\1{TOKEN_PLACEHOLDER}", text)
    text = _SIGNED.sub(TOKEN_PLACEHOLDER, text)
    return _SECRET_PARAM.sub(rf"\1{TOKEN_PLACEHOLDER}", text)


def current_request_id() -> str:
    return g.get("request_id", NO_REQUEST) if has_request_context() else NO_REQUEST


def _install_record_factory() -> None:
    """Wrap the process's log record factory once (create_app may run many times in one process)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "ldnsite", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id()
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is the caller's bug; leave it to the handler
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    factory.ldnsite = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def site_handler() -> logging.Handler:
    """The one handler for the site's loggers (`ldnsite.*`): stderr, in FORMAT."""
    global _handler
    if _handler is None:
        _handler = logging.StreamHandler(sys.stderr)
        _handler.setFormatter(logging.Formatter(FORMAT))
    return _handler


def _assign_request_id() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _VALID_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _send_request_id(response: Response) -> Response:
    """Echo the id, except on responses a shared cache may keep: it would hand one reader's id to everyone.

    Registered first, so it runs after the cache policy has set Cache-Control.
    """
    if not response.cache_control.public:
        response.headers[REQUEST_ID_HEADER] = current_request_id()
    return response


def init_app(app: Flask) -> None:
    """Every module logs through `logging.getLogger(__name__)`; the `ldnsite` logger holds the one handler.

    Records still propagate to the root logger, so a host that configures
    logging itself (gunicorn's --log-config, pytest's capture) sees them too.
    """
    _install_record_factory()
    site = logging.getLogger("ldnsite")  # also Flask's app.logger: the app is named after the package
    for handler in list(site.handlers):
        if handler is not site_handler():
            site.removeHandler(handler)  # Flask's default handler, if app.logger was touched first
    if site_handler() not in site.handlers:
        site.addHandler(site_handler())
    site.setLevel(app.config["LOG_LEVEL"])
    app.before_request(_assign_request_id)
    app.after_request(_send_request_id)
