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
    """Every setting the code reads, with its working default: code reads `config["KEY"]`, never a fallback.

    Why one place: a default written again beside its use drifts from this one
    (and from the README's configuration table, which documents each key once).
    """
    return {
        # Storage and site
        "DATABASE_URL": f"sqlite:///{Path(instance_path) / 'site.db'}",
        "DATABASE_ENGINE_OPTIONS": {},  # extra create_engine() arguments (tests and benches: pool sizes)
        "SQLITE_BUSY_TIMEOUT_MS": 5000,  # how long a write waits for another's lock before the reader gets a 503
        "INDEX_DIR": str(PROJECT_ROOT / "index"),
        "CONTENT_DIR": str(PROJECT_ROOT / "site"),
        "CONTENT_RELOAD_INTERVAL": 1.0,  # seconds between checks of site/ for edited pages
        "SITE_URL": "http://127.0.0.1:5000",
        "SITE_NAME": "LDN Guide",
        "PROXY_COUNT": 0,  # reverse proxies in front; their X-Forwarded-* headers are trusted
        "MAX_CONTENT_LENGTH": 64 * 1024,
        # Sessions, cookies, forms, limits
        "SESSION_MAX_AGE_DAYS": 30,  # a signed-in session ends after this long, whatever its activity
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": 4 * 3600,  # seconds; an expired forum form is shown again with its text
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        # Logging
        "LOG_LEVEL": "INFO",
        # Forum
        "FORUM_POST_RATE_LIMIT": "6 per minute;40 per hour",
        "FORUM_PREVIEW_RATE_LIMIT": "20 per minute;200 per hour",
        "FORUM_REPORT_RATE_LIMIT": "10 per hour;30 per day",
        "FORUM_EDIT_WINDOW_MINUTES": 30,
        "FORUM_HELD_FIRST_POSTS": 3,  # a new member's first posts wait for a moderator
        "FORUM_WITHDRAWN_RETENTION_DAYS": 30,  # /privacy states this period
        # Search
        "SEARCH_BACKEND": "whoosh",  # or "postgres": search in the PostgreSQL database, no index on any node
        "SEARCH_DATABASE_URL": "",  # postgres engine only: a read replica for search queries; writes use the primary
        "SEARCH_INDEX_ON_COMMIT": True,
        "SEARCH_INDEX_MMAP": False,
        "SEARCH_POSTING_CACHE_MB": 192,  # per worker: posting lists kept in memory for full-corpus ranking
        "SEARCH_REBUILD_MEMORY_MB": 1024,  # postings a rebuild sorts in memory before spilling runs to disk
        "SEARCH_REQUEST_WAITS_FOR_BUILD": False,  # true only in tests: a search waits for the background rebuild
        "SEARCH_WRITER_TIMEOUT": 10.0,
        "SEARCH_SYNC_INTERVAL": 2.0,
        "SEARCH_OUTBOX_GRACE_SECONDS": 60.0,
        "SEARCH_OUTBOX_RETENTION_SECONDS": 86400.0,
        # Mail
        "MAIL_URL": f"file:{Path(instance_path) / 'outbox'}",
        "MAIL_FROM": "LDN Guide <no-reply@localhost>",
        "MAIL_UNSUBSCRIBE_MAILBOX": "",
        "MAIL_HASH_KEY": "",  # empty: derived from SECRET_KEY
        "MAIL_TIMEOUT": 10.0,
        "MAIL_CA_FILE": None,
        "MAIL_DELIVER_ON_COMMIT": True,
        "MAIL_DELIVERY": "worker",  # a background thread per process sends; "inline": the committing thread
        "MAIL_WORKER_INTERVAL": 15,  # seconds between the worker's passes for retries that came due
        "MAIL_RETRY_BASE_SECONDS": 60,
        "MAIL_RETRY_MAX_SECONDS": 6 * 3600,
        "MAIL_RETENTION_DAYS": 30,
        "MAIL_FORM_RATE_LIMIT": "10 per hour",
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
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    if app.config["SITE_URL"].startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["SITE_URL"] = app.config["SITE_URL"].rstrip("/")
    if not app.config["TRUSTED_HOSTS"]:
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
