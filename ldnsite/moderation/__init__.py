"""Moderation: queue, approve/remove/restore, locks, suspensions and the append-only log."""

from flask import Blueprint, Flask

bp = Blueprint("moderation", __name__, url_prefix="/moderation")


def init_app(app: Flask) -> None:
    from ldnsite.moderation import models, queries, routes  # noqa: F401  (routes register on bp)
    from ldnsite.moderation.forms import REMOVAL_REASONS

    app.register_blueprint(bp)
    # The forum's topic page includes moderation/_post_controls.html and _topic_controls.html;
    # these give those includes what they need without the forum knowing about moderation.
    app.jinja_env.globals["moderation_first_post_id"] = routes.topic_first_post
    app.jinja_env.globals["moderation_removal_reasons"] = REMOVAL_REASONS
    app.jinja_env.globals["moderation_excerpt"] = queries.excerpt
