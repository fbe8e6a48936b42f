"""Ready-made files of the public content pages, for nginx to hand to anonymous readers without asking the app.

Why: the articles are the same bytes for every anonymous reader until site/
changes, yet a proxy-cache hit still costs nginx a key lookup, an open and a
parse of the stored response on every view. A plain file is the cheapest
thing nginx serves (docs/deploy.md, bench/README.md "Delivery"). Written
outside the request path, each file can also take Brotli's and gzip's best
(slowest) settings, so readers download less than from the per-request
compression.

Which pages: only those the app itself marks with the content policy
(cache_policy.CONTENT, public for five minutes) when asked anonymously,
HTML, 200 and without a cookie. Forum, home and search pages never qualify
(a moderator's removal must reach them within 30 s) and neither does anything
personal, so the cache policy stays the one place that decides. nginx uses a
file only for a GET or HEAD without a query string and without the session or
remember-me cookie; everything else goes to the proxy as before.

Layout: `<dir>/<encoding>/<path>.html`, encoding `identity`, `br` or `gzip`,
so `/treatments/` is `br/treatments/.html`. A file is replaced (atomically)
only when its bytes change, and files of pages that are gone are removed, so
running the command every minute (the jobs timer) keeps nginx's ETags steady
and an editorial change visible within a minute.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import brotli
import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ldnsite.security.cache_policy import CONTENT

ENCODINGS = ("identity", "br", "gzip")


@dataclass
class Outcome:
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def candidate_urls(app: Flask) -> list[str]:
    """Every content page, list and printable summary; the cache policy then decides which are public."""
    pages = app.extensions["content"].all()
    urls = ["/treatments/", "/conditions/"] + [p.url for p in pages]
    urls += [p.url + "/summary" for p in pages if p.has_summary]
    return list(dict.fromkeys(urls))


def _public_page(response) -> bool:
    return (
        response.status_code == 200
        and response.mimetype == "text/html"
        and response.headers.get("Cache-Control") == CONTENT
        and "Set-Cookie" not in response.headers
    )


def _write(path: Path, data: bytes) -> bool:
    """Replace `path` with `data` unless it already holds exactly that; readers never see half a file."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)  # public pages; nginx runs as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def write_snapshots(app: Flask, directory: Path) -> Outcome:
    """Bring `directory` in line with what the app serves anonymous readers now."""
    outcome = Outcome()
    client = app.test_client()
    base = app.config["SITE_URL"]
    keep: set[Path] = set()
    for url in candidate_urls(app):
        plain = client.get(url, base_url=base, headers={"Accept-Encoding": "identity"})
        compressible = client.get(url, base_url=base, headers={"Accept-Encoding": "br"})
        # nginx labels the files under br/ and gzip/ as compressed: a page the app would not compress is left out.
        if not _public_page(plain) or not _public_page(compressible) or compressible.headers.get("Content-Encoding") != "br":
            outcome.skipped.append(url)
            continue
        body = plain.get_data()
        files = {enc: directory / enc / (url.lstrip("/") + ".html") for enc in ENCODINGS}
        keep.update(files.values())
        unchanged = all(p.exists() for p in files.values()) and files["identity"].read_bytes() == body
        if unchanged:
            outcome.unchanged += len(files)
            continue
        variants = {
            "identity": body,
            "br": brotli.compress(body, quality=11, mode=brotli.MODE_TEXT),
            "gzip": gzip.compress(body, compresslevel=9, mtime=0),
        }
        for enc, data in variants.items():
            if _write(files[enc], data):
                outcome.written.append(f"{enc}{url}")
            else:
                outcome.unchanged += 1
    for enc in ENCODINGS:
        root = directory / enc
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*"), reverse=True):
            if path.is_file() and path not in keep:
                path.unlink()
                outcome.removed.append(str(path.relative_to(directory)))
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return outcome


def register(group: click.Group) -> None:
    @group.command("snapshot")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    @with_appcontext
    def snapshot_command(directory: Path) -> None:
        """Write the public content pages as files for nginx (docs/deploy.md); run it from the jobs timer."""
        app = current_app._get_current_object()
        try:
            outcome = write_snapshots(app, directory)
        finally:
            # The app's first request starts this process's mail thread; let a delivery pass finish before exiting.
            mail_worker = app.extensions.get("ldnsite.mail.worker")
            if mail_worker is not None:
                mail_worker.stop(timeout=30)
        for line in outcome.written:
            click.echo(f"written {line}")
        for line in outcome.removed:
            click.echo(f"removed {line}")
        click.echo(
            f"snapshot: {len(outcome.written)} files written, {outcome.unchanged} unchanged, "
            f"{len(outcome.removed)} removed, {len(outcome.skipped)} pages not public"
            + (f" ({', '.join(outcome.skipped)})" if outcome.skipped else "")
        )
