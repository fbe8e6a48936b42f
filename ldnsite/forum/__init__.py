"""Forum: topics, replies, edits, reports and reply notifications."""

from __future__ import annotations

from flask import Blueprint, Flask

from ldnsite import hooks
from ldnsite.db import get_session
from ldnsite.forum import queries
from ldnsite.forum.cli import forum_cli
from ldnsite.forum.crisis import SUPPORT_LINES
from ldnsite.forum.member_data import member_data

bp = Blueprint("forum", __name__, url_prefix="/forum")


def author_name(user) -> str:
    """Public pages show display names only; a deleted account shows as "Deleted member"."""
    if user is None or user.deleted_at is not None:
        return "Deleted member"
    return user.display_name


def _latest_topics(limit: int = 5) -> list:
    return queries.latest_topics(get_session(), limit)


def _sitemap_entries() -> list:
    return queries.sitemap_entries(get_session())


def init_app(app: Flask) -> None:
    from ldnsite.forum import routes  # noqa: F401  (routes register on bp, so they import it from here)

    app.register_blueprint(bp)
    app.cli.add_command(forum_cli)
    app.jinja_env.globals["author_name"] = author_name
    app.jinja_env.globals["crisis_support_lines"] = SUPPORT_LINES
    hooks.register(app, hooks.LATEST_TOPICS, _latest_topics)
    hooks.register(app, hooks.SITEMAP_SOURCES, _sitemap_entries)
    hooks.register(app, hooks.MEMBER_DATA, member_data)
