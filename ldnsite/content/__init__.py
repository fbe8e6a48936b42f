"""Content: the editorial pages in site/, their listings, sitemap, feed and health check."""

from pathlib import Path

from flask import Blueprint, Flask

from ldnsite.content.store import ContentStore

bp = Blueprint("content", __name__)


def init_app(app: Flask) -> None:
    from ldnsite.content import check, routes  # noqa: F401  (routes register on bp)

    app.extensions["content"] = ContentStore(
        Path(app.config["CONTENT_DIR"]), reload_interval=app.config.get("CONTENT_RELOAD_INTERVAL", 1.0)
    )
    # Other capabilities add (url, lastmod) sources to the sitemap and items to the home page.
    app.extensions.setdefault("sitemap_sources", [])
    app.register_blueprint(bp)
    app.cli.add_command(check.content_cli)
    app.jinja_env.globals["site_name"] = app.config["SITE_NAME"]


def store() -> ContentStore:
    from flask import current_app

    return current_app.extensions["content"]
