"""Moderation: queue, approve/remove/restore, locks, suspensions and the append-only log."""

from flask import Blueprint, Flask

from ldnsite import hooks
from ldnsite.moderation import queries
from ldnsite.moderation.forms import REMOVAL_REASONS
from ldnsite.moderation.member_data import member_data
from ldnsite.moderation.watched_words import screen

bp = Blueprint("moderation", __name__, url_prefix="/moderation")


def init_app(app: Flask) -> None:
    from ldnsite.moderation import routes  # noqa: F401  (routes register on bp, so they import it from here)

    app.register_blueprint(bp)
    hooks.register(app, hooks.POST_SCREENS, screen)
    hooks.register(app, hooks.MEMBER_DATA, member_data)
    # The forum's topic page includes moderation/_post_controls.html and _topic_controls.html;
    # these give those includes what they need without the forum knowing about moderation.
    app.jinja_env.globals["moderation_removal_reasons"] = REMOVAL_REASONS
    app.jinja_env.globals["moderation_excerpt"] = queries.excerpt
