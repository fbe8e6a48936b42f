"""`flask content snapshot`: the page files nginx hands to anonymous readers (docs/deploy.md).

What an operator relies on: only pages the app itself serves as public
content get a file (never the forum, home, search or anything personal), each
file is the page the app serves, an editorial change or a removed page reaches
the files on the next run, and an unchanged page keeps its file (so nginx's
ETag, and readers' 304s, stay valid).
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import brotli
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "/treatments/low-dose-naltrexone"


@pytest.fixture
def app_config(app_config, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(ROOT / "site", site)
    return {**app_config, "CONTENT_DIR": str(site)}


@pytest.fixture
def pages(tmp_path) -> Path:
    return tmp_path / "pages"


def snapshot(app, pages: Path):
    result = app.test_cli_runner().invoke(args=["content", "snapshot", str(pages)])
    assert result.exit_code == 0, result.output
    return result.output


def read(pages: Path, encoding: str, url: str) -> bytes:
    data = (pages / encoding / (url.lstrip("/") + ".html")).read_bytes()
    return brotli.decompress(data) if encoding == "br" else gzip.decompress(data) if encoding == "gzip" else data


def test_every_public_content_page_gets_a_file_per_encoding_holding_what_the_app_serves(app, client, pages):
    output = snapshot(app, pages)
    assert "0 pages not public" in output
    for url in (ARTICLE, f"{ARTICLE}/research", f"{ARTICLE}/summary", "/treatments/", "/conditions/fibromyalgia", "/about"):
        served = client.get(url, headers={"Accept-Encoding": "identity"}).get_data()
        for encoding in ("identity", "br", "gzip"):
            assert read(pages, encoding, url) == served, (encoding, url)


def test_no_file_for_forum_home_search_or_personal_pages(app, pages):
    snapshot(app, pages)
    written = {p.relative_to(pages / "identity").as_posix() for p in (pages / "identity").rglob("*.html")}
    assert written and all(not name.startswith(("forum", "account", "search", "moderation")) for name in written)
    assert ".html" not in written  # the home page shows forum posts: the 30 s cache serves it
    for path in pages.rglob("*.html"):
        raw = path.read_bytes()
        body = brotli.decompress(raw) if "br" in path.parts else gzip.decompress(raw) if "gzip" in path.parts else raw
        assert b"csrf_token" not in body and b"/account/logout" not in body, path


def test_an_unchanged_page_keeps_its_file_and_an_edited_one_is_replaced(app, pages, app_config):
    snapshot(app, pages)
    article = pages / "br" / "treatments" / "low-dose-naltrexone.html"
    about = pages / "identity" / "about.html"
    os.utime(article, (1_000_000_000, 1_000_000_000))
    os.utime(about, (1_000_000_000, 1_000_000_000))
    source = Path(app_config["CONTENT_DIR"]) / "about.md"
    source.write_text(source.read_text().replace("\n\n", "\n\nA sentence the editor has just added.\n\n", 1))

    output = snapshot(app, pages)
    assert article.stat().st_mtime == 1_000_000_000  # same bytes: nginx's ETag stays, browsers get 304
    assert "written identity/about" in output
    assert b"A sentence the editor has just added." in about.read_bytes()
    assert b"A sentence the editor has just added." in read(pages, "br", "/about")


def test_a_page_removed_from_site_loses_its_files(app, pages, app_config):
    snapshot(app, pages)
    assert (pages / "gzip" / "treatments" / "pacing.html").exists()
    (Path(app_config["CONTENT_DIR"]) / "pacing.md").unlink()
    output = snapshot(app, pages)
    assert "removed gzip/treatments/pacing.html" in output
    assert not list(pages.rglob("pacing*"))
    assert (pages / "gzip" / "treatments" / "low-dose-naltrexone.html").exists()
