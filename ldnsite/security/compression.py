"""Brotli and gzip for text responses, through Flask-Compress, on the responses the cache policy allows.

Why in the application and not only in a proxy: `make run` and a bare
gunicorn must send compressed pages too, and only the application knows which
responses carry a secret (a CSRF token, personal data) that must never be
compressed next to text an attacker can choose (BREACH; docs/security.md).
Flask-Compress's own after_request hook is therefore not registered: the
cache policy (`cache_policy.py`) calls `compress()` for each response it
allows.

Why a cache of compressed bytes: a page from the page cache is the same bytes
for every reader until it changes, so it is compressed once per worker and
per encoding (keyed by its strong ETag), not on every request.
"""

from __future__ import annotations

from collections import OrderedDict

from flask import Flask, Response, current_app, g, request
from flask_compress import Compress

# Brotli 5 is about as fast as gzip 6 (about 1.4 ms for the 45 KB article) and 6% smaller;
# 11 would save 14% more but costs 50 ms, too slow for pages rendered on each request.
SETTINGS = {
    "COMPRESS_REGISTER": False,
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_ALGORITHM_STREAMING": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_LEVEL": 6,
    "COMPRESS_MIN_SIZE": 500,
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/plain",
        "text/xml",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/xml",
        "application/atom+xml",
        "application/rss+xml",
        "application/opensearchdescription+xml",
        "image/svg+xml",
    ],
    "COMPRESS_CACHE_MAX_BYTES": 8 * 1024 * 1024,
}


class CompressedBytes:
    """Compressed bodies by encoding and ETag, at most `limit` bytes, oldest dropped first.

    An empty key (a response without a strong ETag) is never stored: its bytes
    may differ on the next request under the same URL.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.data: OrderedDict[str, bytes] = OrderedDict()

    @staticmethod
    def _usable(key: str) -> bool:
        return not key.endswith(";")

    def get(self, key: str) -> bytes | None:
        return self.data.get(key) if self._usable(key) else None

    def set(self, key: str, value: bytes) -> None:
        if not self._usable(key) or key in self.data or len(value) > self.limit:
            return
        self.data[key] = value
        self.size += len(value)
        while self.size > self.limit:
            _, dropped = self.data.popitem(last=False)
            self.size -= len(dropped)


def _cache_key(_request) -> str:
    return g.get("compress_key", "")


def compress(response: Response) -> Response:
    """Compress `response` if the client accepts br or gzip and its type is text; adds Vary: Accept-Encoding."""
    etag, weak = response.get_etag()
    g.compress_key = f"{request.path}|{etag}" if etag and not weak and not response.is_streamed else ""
    return current_app.extensions["compress"].after_request(response)


def init_app(app: Flask) -> None:
    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    limit = int(app.config["COMPRESS_CACHE_MAX_BYTES"])
    app.config["COMPRESS_CACHE_BACKEND"] = lambda: CompressedBytes(limit)
    app.config["COMPRESS_CACHE_KEY"] = _cache_key
    compressor = Compress()
    compressor.init_app(app)
    app.extensions["compress"] = compressor
