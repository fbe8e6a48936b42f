"""Configuration: embedded defaults that work with no set-up, overridden by FLASK_* variables.

Why: `make run` on a fresh clone must serve the site with nothing to configure,
while a scaled-out deployment sets every value explicitly in the environment.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def defaults(instance_path: str) -> dict:
    return {
        "DATABASE_URL": f"sqlite:///{Path(instance_path) / 'site.db'}",
        "INDEX_DIR": str(PROJECT_ROOT / "index"),
        "CONTENT_DIR": str(PROJECT_ROOT / "site"),
        "MAIL_URL": f"file:{Path(instance_path) / 'outbox'}",
        "MAIL_FROM": "LDN Guide <no-reply@localhost>",
        "MAIL_UNSUBSCRIBE_MAILBOX": "",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "SITE_URL": "http://127.0.0.1:5000",
        "SITE_NAME": "LDN Guide",
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": 4 * 3600,  # seconds; an expired forum form is shown again with its text
        "SQLITE_BUSY_TIMEOUT_MS": 5000,  # how long a write waits for another's lock before the reader gets a 503
        "FORUM_WITHDRAWN_RETENTION_DAYS": 30,  # /privacy states this period
        "SEARCH_BACKEND": "whoosh",  # or "postgres": search in the PostgreSQL database, no index on any node
        "SEARCH_DATABASE_URL": "",  # postgres engine only: a read replica for search queries; writes use the primary
        "SEARCH_INDEX_ON_COMMIT": True,
        "SEARCH_POSTING_CACHE_MB": 192,  # per worker: posting lists kept in memory for full-corpus ranking
        "SEARCH_REBUILD_MEMORY_MB": 1024,  # postings a rebuild sorts in memory before spilling runs to disk
        "SEARCH_REQUEST_WAITS_FOR_BUILD": False,  # true only in tests: a search waits for the background rebuild
        "MAIL_DELIVER_ON_COMMIT": True,
        "MAIL_DELIVERY": "worker",  # a background thread per process sends; "inline": the committing thread
        "MAIL_WORKER_INTERVAL": 15,  # seconds between the worker's passes for retries that came due
    }


def _instance_secret(instance_path: str) -> str:
    """Generate the secret key once and keep it, owner-readable only, in instance/.

    Why: a key that changed on every start would sign everyone out and break
    unsubscribe links already sent by email.
    """
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def load(app: Flask, overrides: dict | None) -> None:
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(defaults(app.instance_path))
    app.config.from_prefixed_env()  # FLASK_DATABASE_URL, FLASK_SECRET_KEY, ...
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    if app.config["SITE_URL"].startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["SITE_URL"] = app.config["SITE_URL"].rstrip("/")
    if not app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config["SITE_URL"])


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def trusted_hosts(site_url: str) -> list[str]:
    """The Host values the site answers to: SITE_URL's host (FLASK_TRUSTED_HOSTS adds more).

    Why: Werkzeug builds absolute redirects (the router's 308 to add a slash)
    from the request's Host header, so an untrusted Host would send readers to
    another site; any other Host gets 400. A local SITE_URL trusts every local name.
    """
    host = urlsplit(site_url).hostname or "localhost"
    return list(LOCAL_HOSTS) if host in LOCAL_HOSTS else [host]
