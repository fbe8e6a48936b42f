"""`flask content check`: passes on the real site/, and on a broken folder names each problem on one line."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from ldnsite import create_app

ROOT = Path(__file__).resolve().parent.parent
TODAY = date.today()
REVIEWED = TODAY - timedelta(days=30)
NEXT = TODAY + timedelta(days=300)


def page(
    slug: str,
    *,
    kind: str = "treatment",
    body: str = "It helps some people [@trial].",
    refs: str | None = None,
    reviewed: str | None = None,
    next_review: str | None = None,
    file_slug: str | None = None,
) -> str:
    refs = (
        refs
        if refs is not None
        else ("references:\n  - {key: trial, authors: Smith J, title: A trial, journal: J Pain, year: 2020, pmid: '12345678'}\n")
    )
    if kind == "treatment" and refs:
        refs += (
            "evidence:\n"
            "  - {study: Smith, year: 2020, design: RCT, participants: 100 adults, dose: 4.5 mg, duration: 12 weeks,"
            " result: Less pain, ref: trial}\n"
        )
    return (
        "---\n"
        f"title: Page {slug}\nslug: {file_slug or slug}\nkind: {kind}\nconditions: [fibro]\n"
        f"summary: About {slug}.\nreviewed: {reviewed or REVIEWED.isoformat()}\nnext_review: {next_review or NEXT.isoformat()}\n"
        "reviewer: {name: A Reviewer, credential: Pharmacist}\n"
        f"{refs}"
        "---\n\n"
        f"## About\n\n{body}\n"
    )


def run_check(tmp_path: Path, content_dir: Path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'check.db'}",
            "CONTENT_DIR": str(content_dir),
            "INDEX_DIR": str(tmp_path / "index"),
        }
    )
    return app.test_cli_runner().invoke(args=["content", "check"])


def test_check_passes_on_the_real_site(tmp_path):
    result = run_check(tmp_path, ROOT / "site")
    assert result.exit_code == 0, result.output
    assert "content ok" in result.output


def test_check_passes_on_a_sound_folder(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "fibro.md").write_text(page("fibro", kind="condition"))
    (folder / "good.md").write_text(
        page(
            "good",
            body=(
                "See [fibromyalgia](/conditions/fibro#symptoms) [@trial], the [forum](/forum/), [search](/search?q=ldn), "
                "[stop emails](/opt-out) and the [feed](/feed.xml)."
            ),
        )
    )
    result = run_check(tmp_path, folder)
    assert result.exit_code == 0, result.output
    assert "content ok: 2 pages" in result.output


@pytest.fixture
def broken(tmp_path) -> Path:
    """A folder with exactly one problem per file, beside a sound condition page they all name."""
    folder = tmp_path / "broken"
    folder.mkdir()
    files = {
        "fibro.md": page("fibro", kind="condition"),
        "norefs.md": page("norefs", kind="condition", body="No sources at all.", refs=""),
        "baddate.md": page("baddate", reviewed="27/11/2026"),
        "overdue.md": page("overdue", reviewed="2019-01-01", next_review="2020-01-01"),
        "dup.md": page("dup"),
        "zdup.md": page("zdup", file_slug="dup"),
        "brokenlink.md": page("brokenlink", body="See [pacing](/treatments/no-such-page) [@trial]."),
        "unknowncite.md": page("unknowncite", body="It helps [@trial] and [@nobody2020]."),
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_check_fails_with_one_clear_line_per_problem(tmp_path, broken):
    result = run_check(tmp_path, broken)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == "6 problem(s) found"
    assert sorted(lines[:-1]) == sorted(
        [
            "norefs.md: has no references",
            "baddate.md: reviewed is not a date (YYYY-MM-DD)",
            "overdue.md: review overdue since 2020-01-01",
            "zdup.md: slug 'dup' is already used by dup.md",
            "brokenlink.md: links to /treatments/no-such-page, which does not exist",
            "unknowncite.md: cites unknown reference [@nobody2020]",
        ]
    )
    assert "content ok" not in result.output


def test_check_reports_references_without_identifiers_and_unreadable_files(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "fibro.md").write_text(page("fibro", kind="condition"))
    (folder / "noid.md").write_text(
        page("noid", refs=("references:\n  - {key: trial, authors: Smith J, title: A trial, journal: J Pain, year: 2020}\n"))
    )
    (folder / "badpmid.md").write_text(
        page("badpmid", refs=("references:\n  - {key: trial, authors: Smith J, title: A trial, journal: J, year: 2020, pmid: PMC123}\n"))
    )
    (folder / "nofront.md").write_text("# Just a heading\n")
    (folder / "related.md").write_text(page("related").replace("conditions: [fibro]", "conditions: [fibro, lupus]"))
    (folder / "nowhere.md").write_text(page("nowhere", body="See [this](/no-such-route/at-all) [@trial]."))
    result = run_check(tmp_path, folder)
    assert result.exit_code == 1
    lines = set(result.stderr.strip().splitlines())
    assert "noid.md: reference trial has no PMID, DOI or official url" in lines
    assert "badpmid.md: reference trial: PMID 'PMC123' is not a number" in lines
    assert "nofront.md: no YAML front matter between --- lines" in lines
    assert "related.md: names page 'lupus', which does not exist" in lines
    assert "nowhere.md: links to /no-such-route/at-all, which does not exist" in lines
    assert len(lines) == 6  # the five above and the count


def test_check_wants_an_evidence_table_on_treatment_pages(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "fibro.md").write_text(page("fibro", kind="condition"))
    text = page("plain")
    (folder / "plain.md").write_text(text[: text.index("evidence:")] + "---" + text.split("---", 2)[2])
    (folder / "badrow.md").write_text(page("badrow").replace("ref: trial}", "ref: nosuchref}"))
    result = run_check(tmp_path, folder)
    assert result.exit_code == 1
    assert set(result.stderr.strip().splitlines()) == {
        "plain.md: has no evidence list (treatment pages show an 'evidence at a glance' table)",
        "badrow.md: evidence row 'Smith' points to unknown reference 'nosuchref'",
        "2 problem(s) found",
    }
