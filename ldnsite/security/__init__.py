"""Security: response headers, the cache and compression policy, hashed static URLs, error pages, safe `next` targets."""

from flask import Flask

from ldnsite.security import cache_policy, errors, headers, static_assets


def init_app(app: Flask) -> None:
    headers.init_app(app)
    static_assets.init_app(app)
    cache_policy.init_app(app)
    errors.init_app(app)
