"""Content-hashed static URLs with long cache lifetimes.

Why: browsers may keep a file for a year when its URL changes whenever its
bytes do, so returning readers download CSS and icons once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, request

ONE_YEAR = 365 * 24 * 3600


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()[:12]
        for p in folder.rglob("*")
        if p.is_file()
    }


def init_app(app: Flask) -> None:
    hashes = _hashes(Path(app.static_folder))

    @app.url_defaults
    def add_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            digest = hashes.get(values.get("filename", ""))
            if digest:
                values["v"] = digest

    @app.after_request
    def cache_static(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code in (200, 304):
            if request.args.get("v") == hashes.get(request.view_args.get("filename", "")):
                response.cache_control.public = True
                response.cache_control.max_age = ONE_YEAR
                response.cache_control.immutable = True
            else:
                response.cache_control.no_cache = True
        return response
