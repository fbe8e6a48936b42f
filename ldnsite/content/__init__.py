"""Content: the editorial pages in site/, their listings, sitemap, feed and health check."""

import re
from pathlib import Path

from flask import Blueprint, Flask, current_app
from markupsafe import Markup

from ldnsite.content.markdown import CITATION
from ldnsite.content.store import ContentStore

bp = Blueprint("content", __name__)
SITE_LINK = re.compile(r'<a href="(/[^"]*)"')
CITE_SUP = re.compile(r'\s*<sup class="cite"[^>]*>.*?</sup>', re.S)


def init_app(app: Flask) -> None:
    from ldnsite.content import check, routes, snapshot  # noqa: F401  (routes register on bp)

    app.extensions["content"] = ContentStore(Path(app.config["CONTENT_DIR"]), reload_interval=app.config["CONTENT_RELOAD_INTERVAL"])
    # Other capabilities add (url, lastmod) sources to the sitemap (hooks.SITEMAP_SOURCES) and items to the home page.
    app.register_blueprint(bp)
    snapshot.register(check.content_cli)
    app.cli.add_command(check.content_cli)
    app.jinja_env.globals["site_name"] = app.config["SITE_NAME"]
    app.jinja_env.filters["uncited"] = uncited
    app.jinja_env.filters["print_urls"] = lambda html: print_urls(html, app.config["SITE_URL"])


def uncited(html: str) -> Markup:
    """Rendered page HTML without its citation numbers, for a printout that has no reference list.

    Only for HTML this package rendered itself (Markdown with raw HTML off), never for members' text.
    """
    return Markup(CITATION.sub("", CITE_SUP.sub("", str(html))))  # noqa: S704 (our own rendered HTML)


def store() -> ContentStore:
    return current_app.extensions["content"]


def print_urls(html: str, site_url: str) -> Markup:
    """Give each link to another page of the site its full address, which print.css prints after it.

    Why: a printout is read away from the screen, where "/conditions/fibromyalgia" leads nowhere.
    """
    return Markup(SITE_LINK.sub(lambda m: f'{m.group(0)} data-print-url="{site_url}{m.group(1)}"', str(html)))  # noqa: S704
