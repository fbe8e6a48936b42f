"""Whole-response cache for anonymous readers, revalidated with ETag and Last-Modified.

Why: the article is the most-read page and changes a few times a year; for a
reader with no session it is the same bytes every time, so they are rendered
once per content change and answered with 304 when the browser has them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Response, current_app, request, session
from flask_login import current_user

MAX_ENTRIES = 512


def _cache() -> dict[tuple, tuple[bytes, str, float]]:
    """One cache per app: two apps in one process (tests, several sites) must never share pages."""
    return current_app.extensions.setdefault("page_cache", {})


def _personal() -> bool:
    return current_user.is_authenticated or "_flashes" in session


def _entry(key: tuple, render: Callable[[], str], last_modified: float | None) -> tuple[bytes, str, float]:
    """The rendered page, its ETag and when these bytes last changed.

    Why not the source file's mtime alone: a page also changes when a page it
    links to is renamed or a template changes, and a client that revalidates
    with If-Modified-Since only would then be told 304 and keep the old page.
    So Last-Modified moves forward whenever the bytes or the file's mtime
    change: to now (never before the mtime), and at least one second past the
    previous value, so a change within the same second is not missed either.
    A re-render that gives the same bytes for an untouched file keeps it.
    """
    cache = _cache()
    entry = cache.get(key)
    if entry is not None:
        return entry
    body = render().encode()
    etag = hashlib.blake2b(body, digest_size=16).hexdigest()
    mtime = last_modified or 0.0
    previous = current_app.extensions.setdefault("page_versions", {})
    slot = key[:-1]  # the key without the content generation
    before = previous.get(slot)
    if before is not None and before[0] == etag and before[2] == mtime:
        changed = before[1]
    else:
        changed = max(float(int(time.time())), float(int(mtime)), before[1] + 1 if before else 0.0)
    previous[slot] = (etag, changed, mtime)
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    cache[key] = entry = (body, etag, changed)
    return entry


def cached_page(key: tuple, render: Callable[[], str], last_modified: float | None = None) -> Response:
    """Answer from cache for anonymous readers; render fresh (and uncached) for members.

    `key` ends with the content generation. Cache-Control comes from the site's
    cache policy (ldnsite/security/cache_policy.py), not from here.
    """
    if _personal():
        return Response(render(), mimetype="text/html")
    body, etag, changed = _entry(key, render, last_modified)
    response = Response(body, mimetype="text/html")
    response.set_etag(etag)
    response.last_modified = datetime.fromtimestamp(changed, UTC)
    response.vary.add("Cookie")
    return response.make_conditional(request)


def clear() -> None:
    _cache().clear()
