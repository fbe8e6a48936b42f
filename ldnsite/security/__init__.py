"""Security: response headers, hashed static URLs, error pages, addresses kept out of logs."""

from flask import Flask

from ldnsite.security import errors, headers, redact, static_assets


def init_app(app: Flask) -> None:
    headers.init_app(app)
    static_assets.init_app(app)
    errors.init_app(app)
    redact.install()
