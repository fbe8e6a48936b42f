"""Whole-response cache for anonymous readers, revalidated with ETag and Last-Modified.

Why: the article is the most-read page and changes a few times a year; for a
reader with no session it is the same bytes every time, so they are rendered
once per content change and answered with 304 when the browser has them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Response, current_app, request, session
from flask_login import current_user

MAX_ENTRIES = 512


def _cache() -> dict[tuple, tuple[bytes, str]]:
    """One cache per app: two apps in one process (tests, several sites) must never share pages."""
    return current_app.extensions.setdefault("page_cache", {})


def _personal() -> bool:
    return current_user.is_authenticated or "_flashes" in session


def cached_page(key: tuple, render: Callable[[], str], last_modified: float | None = None) -> Response:
    """Answer from cache for anonymous readers; render fresh (and uncached) for members."""
    if _personal():
        response = Response(render(), mimetype="text/html")
        response.cache_control.private = True
        response.cache_control.no_cache = True
        return response
    cache = _cache()
    entry = cache.get(key)
    if entry is None:
        body = render().encode()
        entry = (body, hashlib.blake2b(body, digest_size=16).hexdigest())
        if len(cache) >= MAX_ENTRIES:
            cache.clear()
        cache[key] = entry
    body, etag = entry
    response = Response(body, mimetype="text/html")
    response.set_etag(etag)
    if last_modified:
        response.last_modified = datetime.fromtimestamp(last_modified, UTC)
    response.cache_control.public = True
    response.cache_control.no_cache = True  # always revalidate: cheap with the ETag
    response.vary.add("Cookie")
    return response.make_conditional(request)


def clear() -> None:
    _cache().clear()
