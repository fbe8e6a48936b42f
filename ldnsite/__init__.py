"""LDN Guide: an accessible health-information site with search, a moderated forum and an email opt-out."""

from __future__ import annotations

from flask import Flask

from ldnsite import config, db, logs
from ldnsite.extensions import csrf, limiter, login_manager

# Every capability is a package with an init_app(app); all but security (headers, cache policy,
# error pages: hooks on the app, no pages of its own) also have a blueprint.
CAPABILITIES = ("security", "content", "accounts", "forum", "moderation", "mail", "search")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    config.load(app, test_config)
    logs.init_app(app)
    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    import importlib

    for name in CAPABILITIES:
        importlib.import_module(f"ldnsite.{name}").init_app(app)
    return app
