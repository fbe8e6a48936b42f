"""Forum: topics, replies, edits, reports and reply notifications."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("forum", __name__, url_prefix="/forum")


def author_name(user) -> str:
    """Public pages show display names only; a deleted account shows as "Deleted member"."""
    if user is None or user.deleted_at is not None:
        return "Deleted member"
    return user.display_name


def _latest_topics(limit: int = 5) -> list:
    from ldnsite.db import get_session
    from ldnsite.forum.queries import latest_topics

    return latest_topics(get_session(), limit)


def _sitemap_entries() -> list:
    from ldnsite.db import get_session
    from ldnsite.forum.queries import sitemap_entries

    return sitemap_entries(get_session())


def init_app(app: Flask) -> None:
    from ldnsite.forum import models, routes  # noqa: F401  (routes register on bp)
    from ldnsite.forum.cli import forum_cli

    app.register_blueprint(bp)
    app.cli.add_command(forum_cli)
    from ldnsite.forum.crisis import SUPPORT_LINES

    app.jinja_env.globals["author_name"] = author_name
    app.jinja_env.globals["crisis_support_lines"] = SUPPORT_LINES
    app.extensions["latest_topics"] = _latest_topics
    app.extensions.setdefault("sitemap_sources", []).append(_sitemap_entries)
