"""Configuration: embedded defaults that work with no set-up, overridden by FLASK_* variables.

Why: `make run` on a fresh clone must serve the site with nothing to configure,
while a scaled-out deployment sets every value explicitly in the environment.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

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
        "WTF_CSRF_TIME_LIMIT": 4 * 3600,
        "FORUM_WITHDRAWN_RETENTION_DAYS": 30,  # /privacy states this period  # seconds; an expired forum form is shown again with its text
        "SEARCH_INDEX_ON_COMMIT": True,
        "MAIL_DELIVER_ON_COMMIT": True,
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
