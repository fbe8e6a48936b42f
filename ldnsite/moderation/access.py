"""Who may use moderation pages.

Why a decorator per view rather than a blueprint-wide hook: each view states
its own rule (moderator or admin) where it is defined, like flaskr's
login_required.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import abort
from flask_login import current_user

from ldnsite.extensions import login_manager


def moderator_required(view: Callable) -> Callable:
    """Anonymous visitors are sent to sign in; signed-in members get 403."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_moderator:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
