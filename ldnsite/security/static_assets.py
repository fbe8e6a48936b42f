"""Content-hashed static URLs, so they can be cached for a year.

Why: browsers may keep a file for a year when its URL changes whenever its
bytes do, so returning readers download CSS and icons once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, current_app, request


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()[:12] for p in folder.rglob("*") if p.is_file()}


def init_app(app: Flask) -> None:
    hashes = _hashes(Path(app.static_folder))

    @app.url_defaults
    def add_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            digest = hashes.get(values.get("filename", ""))
            if digest:
                values["v"] = digest

    app.extensions["static_hashes"] = hashes


def is_hashed_request() -> bool:
    """Does this static request carry the current hash of its file? Only then may it be kept for a year.

    The lifetimes themselves are set by the cache policy (cache_policy.py).
    """
    digest = current_app.extensions["static_hashes"].get((request.view_args or {}).get("filename", ""))
    return digest is not None and request.args.get("v") == digest
