"""`flask content check` per page pattern: each rule fails on a fixture page that breaks it, and the
reading level is reported for every page and fails only medicine, condition and therapy pages.

Starts from the sound fixture pages in tests/data/content, copied to a temporary folder, and
breaks one thing at a time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import textstat

from ldnsite import create_app
from ldnsite.content import readability
from ldnsite.content.check import problems
from ldnsite.content.store import parse_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "content"
TODAY = date(2026, 12, 1)  # the fixtures' review date
HARD = (
    "Notwithstanding considerable methodological heterogeneity, contemporaneous investigations "
    "demonstrated statistically indistinguishable improvements in multidimensional symptomatology."
)


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "site"
    shutil.copytree(FIXTURES, target)
    return target


def make_app(tmp_path: Path, folder: Path):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'check.db'}",
            "CONTENT_DIR": str(folder),
            "INDEX_DIR": str(tmp_path / "index"),
            "CONTENT_RELOAD_INTERVAL": 0,
        }
    )


def found(tmp_path: Path, folder: Path) -> list[str]:
    app = make_app(tmp_path, folder)
    with app.app_context():
        return problems(app.extensions["content"], today=TODAY)


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


def test_the_sound_fixture_pages_pass(tmp_path, folder):
    assert found(tmp_path, folder) == []


BROKEN = [
    # (file, text to replace, replacement, the problem line expected)
    (
        "testamol.md",
        "## Pregnancy and breastfeeding",
        "## Pregnancy",
        "testamol.md: has no section 'Pregnancy and breastfeeding' (an H2 heading)",
    ),
    ("testamol.md", "## Does testamol work", "## Does it help", "testamol.md: has no section 'Does .+ work' (an H2 heading)"),
    (
        "testamol.md",
        "## Licensing in the UK\n\nTestamol is not licensed in the UK. It is a made-up medicine.\n",
        "",
        "testamol.md: has no section 'Licensing in the UK' (an H2 heading)",
    ),
    ("testamol.md", "### Stopping testamol", "### Later", "testamol.md: 'How to take' section has no H3 about stopping"),
    ("testamol.md", "### If you forget to take it", "### Later", "testamol.md: 'How to take' section has no H3 about a missed dose"),
    (
        "testamol.md",
        "::: care emergency",
        "::: care non-urgent",
        "testamol.md: 'Side effects' section has no emergency care card (::: care emergency)",
    ),
    (
        "testamol.md",
        '  - "The most common side effect is feeling sick."\n  - "Do not stop it suddenly."\n',
        "",
        "testamol.md: has 2 key facts (3 to 7 needed)",
    ),
    (
        "testamol.md",
        "evidence_rating: low",
        "evidence_rating: weak",
        "testamol.md: evidence_rating 'weak' is not one of high, moderate, low, very low",
    ),
    ("testamol.md", "evidence_rating: low\n", "", "testamol.md: has no evidence_rating (high, moderate, low, very low)"),
    (
        "testamol.md",
        "ref: trial2020, certainty: low}",
        "ref: trial2020}",
        "testamol.md: evidence row 'Smith' has no certainty (high, moderate, low, very low)",
    ),
    (
        "testamol.md",
        "certainty: very low}",
        "certainty: poor}",
        "testamol.md: evidence row 'Brown': certainty 'poor' is not one of high, moderate, low, very low",
    ),
    (
        "testamol.md",
        'url: "https://www.nice.org.uk/guidance/ng999"',
        'url: "https://www.example.com/guidance"',
        "testamol.md: reference guide: url https://www.example.com/guidance is not an official guideline, regulator or NIH "
        "address (the list is in docs/editorial.md)",
    ),
    (
        "testamol.md",
        'url: "https://www.nice.org.uk/guidance/ng999"',
        'url: "http://www.nice.org.uk/guidance/ng999"',
        "testamol.md: reference guide: url http://www.nice.org.uk/guidance/ng999 must start with https://",
    ),
    (
        "testamol.md",
        '    url: "https://www.nice.org.uk/guidance/ng999"\n',
        "",
        "testamol.md: reference guide has no PMID, DOI or official url",
    ),
    (
        "testamol.md",
        "One small trial found that testamol helped a little [@trial2020].",
        "One small trial found that testamol helped a little [@nobody2021].",
        "testamol.md: cites unknown reference [@nobody2021]",
    ),
    (
        "testamol.md",
        "::: care non-urgent",
        "::: care soon",
        "testamol.md: care card level 'soon' is not one of non-urgent, urgent, emergency",
    ),
    (
        "testamol.md",
        "::: care non-urgent\nSpeak to your doctor if:\n\n",
        "::: care non-urgent\n",
        "testamol.md: care card (non-urgent) must start with a heading line, e.g. 'Call 111 if:'",
    ),
    (
        "testamol.md",
        "\nOutside the UK, call your local emergency number.\n",
        "\n",
        "testamol.md: care card 'Call 999 or go to A&E now if:' gives 999 but not the local emergency number outside the UK",
    ),
    (
        "test-pain.md",
        "::: care emergency",
        "::: care non-urgent",
        "test-pain.md: has no urgent or emergency care card (::: care urgent or ::: care emergency)",
    ),
    ("test-pain.md", "## Symptoms", "## Signs", "test-pain.md: has no section 'Symptoms' (an H2 heading)"),
    ("testamol-research.md", "parent: testamol\n", "", "testamol-research.md: research page has no parent (the page it belongs to)"),
    ("testamol-research.md", "parent: testamol", "parent: nothing", "testamol-research.md: parent 'nothing' does not exist"),
    ("testamol-research.md", "parent: testamol", "parent: test-pain", "testamol-research.md: parent 'test-pain' must be a treatment page"),
    (
        "test-pain.md",
        "pattern: condition",
        "pattern: condition\nparent: testamol",
        "test-pain.md: parent is only for research pages (pattern: research)",
    ),
    (
        "testamol.md",
        "pattern: medicine",
        "pattern: medication",
        "testamol.md: pattern 'medication' is not one of medicine, condition, therapy, research, info",
    ),
    (
        "testamol.md",
        "## Questions to ask your doctor",
        "## Related pages\n\n- [Test pain](/conditions/test-pain)\n\n## Questions to ask your doctor",
        "testamol.md: section 'Related pages' repeats the related pages list; name the pages in front matter 'related:' instead",
    ),
    (
        "testamol.md",
        "questions:\n",
        "asked:\n",
        "testamol.md: has no questions (front matter 'questions:', shown under 'Questions to ask your doctor')",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "expected"), BROKEN, ids=lambda v: v[:40] if isinstance(v, str) else str(v))
def test_each_rule_fails_on_a_page_that_breaks_it(tmp_path, folder, name, old, new, expected):
    edit(folder, name, old, new)
    lines = found(tmp_path, folder)
    assert expected in lines, "\n".join(lines)


def test_a_reference_never_cited_is_reported(tmp_path, folder):
    # The condition page's only other citation is in a key fact; remove both.
    edit(folder, "test-pain.md", "The main symptom is pain that comes and goes [@guide].", "The main symptom is pain.")
    edit(folder, "test-pain.md", "a made-up condition [@guide].", "a made-up condition.")
    assert "test-pain.md: reference guide is never cited in the text" in found(tmp_path, folder)


def test_too_many_key_facts_and_sections_out_of_order(tmp_path, folder):
    edit(folder, "test-pain.md", "key_facts:\n", "key_facts:\n" + '  - "One more fact."\n' * 5)
    body = (folder / "test-pain.md").read_text()
    treatment = body[body.index("## Treatment") : body.index("## Things you can do yourself")]
    body = body.replace(treatment, "").replace("## Symptoms", treatment + "## Symptoms")
    (folder / "test-pain.md").write_text(body)
    lines = found(tmp_path, folder)
    assert "test-pain.md: has 8 key facts (3 to 7 needed)" in lines
    assert any(line.startswith("test-pain.md: section 'Treatment' is out of order") for line in lines), lines


def test_official_addresses_that_count_instead_of_a_pmid_or_doi(tmp_path, folder):
    for url in (
        "https://www.gov.uk/drug-safety-update/x",
        "https://www.ncbi.nlm.nih.gov/books/NBK501922/",
        "https://www.accessdata.fda.gov/drugsatfda_docs/label/x.pdf",
        "https://www.medicines.org.uk/emc/product/1",
    ):
        edit(folder, "testamol.md", 'url: "https://www.nice.org.uk/guidance/ng999"', f'url: "{url}"')
        assert found(tmp_path, folder) == [], url
        edit(folder, "testamol.md", f'url: "{url}"', 'url: "https://www.nice.org.uk/guidance/ng999"')
    edit(folder, "testamol.md", 'url: "https://www.nice.org.uk/guidance/ng999"', 'url: "https://www.ncbi.nlm.nih.gov/pmc/x"')
    assert any("is not an official guideline" in line for line in found(tmp_path, folder))


def test_pages_without_a_pattern_keep_only_the_general_rules(tmp_path, folder):
    """Older pages pass until they are rewritten: no required sections, key facts or care cards."""
    (folder / "old.md").write_text(
        "---\ntitle: Old page\nslug: old\nkind: treatment\nconditions: [test-pain]\nsummary: An old page.\n"
        "reviewed: 2026-11-01\nnext_review: 2027-11-01\nreviewer: {name: Editorial team, credential: Site editors}\n"
        "references:\n  - {key: t, authors: Smith J, title: A trial, journal: J, year: 2020, pmid: '123'}\n"
        "evidence:\n  - {study: Smith, year: 2020, design: RCT, participants: 10, dose: 1 mg, duration: 1 week,"
        " result: None, ref: t}\n---\n\n## Anything\n\n" + HARD + " [@t]\n"
    )
    assert found(tmp_path, folder) == []


def test_a_page_with_a_research_page_may_leave_its_own_table_out(tmp_path, folder):
    text = (folder / "testamol.md").read_text()
    start = text.index("evidence:\n")
    (folder / "testamol.md").write_text(text[:start] + text[text.index("---\n", start) :])
    assert found(tmp_path, folder) == []
    (folder / "testamol-research.md").unlink()
    assert "testamol.md: has no evidence list (treatment pages show an 'evidence at a glance' table)" in found(tmp_path, folder)


@pytest.mark.parametrize("heading", ["Dosage", "How much to take", "Your dose"])
def test_how_to_take_dose_heading_may_be_worded_plainly(tmp_path, folder, heading):
    edit(folder, "testamol.md", "### Dose", f"### {heading}")
    assert found(tmp_path, folder) == []


def test_info_and_research_pages_have_free_structure(tmp_path, folder):
    edit(folder, "about.md", "This page is here", "## Any heading\n\nThis page is here")
    edit(folder, "testamol-research.md", "## How it might work", "## Something else")
    assert found(tmp_path, folder) == []


# ---- reading level ------------------------------------------------------------------------------


def test_reading_level_fails_medicine_pages_above_grade_7_and_key_facts_above_grade_6(tmp_path, folder):
    edit(folder, "testamol.md", "Most adults can take it.", HARD + " " + HARD + " " + HARD)
    edit(folder, "testamol.md", '  - "Do not stop it suddenly."', f'  - "{HARD}"')
    lines = found(tmp_path, folder)
    core = [line for line in lines if "reading level of the core text" in line]
    facts = [line for line in lines if "reading level of the key facts" in line]
    assert len(core) == 1 and core[0].startswith("testamol.md: reading level of the core text is grade ")
    assert core[0].endswith("(at most 7)")
    assert len(facts) == 1 and facts[0].endswith("(at most 6)")


def test_reading_level_is_only_reported_for_research_and_info_pages(tmp_path, folder):
    edit(folder, "testamol-research.md", "No one knows yet.", HARD * 3)
    edit(folder, "about.md", "This page is here so that links to /about resolve.", HARD * 3)
    assert found(tmp_path, folder) == []
    result = make_app(tmp_path, folder).test_cli_runner().invoke(args=["content", "check"])
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line.endswith(".md") or ".md " in line}
    assert set(rows) == {"about.md", "test-pain.md", "testamol-research.md", "testamol.md"}
    assert float(rows["testamol-research.md"][1]) > 7 and rows["testamol-research.md"][2] == "-"
    assert float(rows["testamol.md"][1]) <= 7 and float(rows["testamol.md"][2]) <= 6


def test_check_command_prints_the_reading_table_and_fails_on_a_problem(tmp_path, folder):
    runner = make_app(tmp_path, folder).test_cli_runner()
    header = next(line for line in runner.invoke(args=["content", "check"]).stdout.splitlines() if line.startswith("page"))
    assert header.split() == ["page", "words", "FK", "core", "FK", "key", "facts"]
    edit(folder, "testamol.md", "## Side effects", "## Unwanted effects")
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "testamol.md: has no section 'Side effects' (an H2 heading)" in result.stderr
    assert "page" in result.stdout and "testamol.md" in result.stdout


def test_core_text_leaves_out_headings_care_card_headings_and_citations():
    page = parse_file(FIXTURES / "testamol.md")
    prose = " ".join(page.prose)
    assert "One small trial found that testamol helped a little." in prose  # citation gone, no stray space
    assert "Do not take testamol with opioid painkillers such as codeine." in prose  # the safety warning counts
    assert "Is testamol right for me?" in prose  # so do the questions
    assert "you have bad stomach pain" in prose  # the care card's list counts
    for left_out in ("Call 999 or go to A&E now if", "Side effects", "Does testamol work", "[@", "A trial of testamol", "Randomised trial"):
        assert left_out not in prose, left_out
    assert page.key_fact_prose[0] == "Testamol is a made-up medicine for test pain."


def test_grade_matches_textstat_on_plain_sentences_and_counts_list_items_as_sentences():
    text = "Low-dose naltrexone is a cheap medicine that some people try. The largest trial found no clear benefit."
    assert readability.level([text]).grade == round(textstat.flesch_kincaid_grade(text), 1)
    short_items = ["headache", "feeling sick", "vivid dreams", "It is usually mild and goes away after a week or two."]
    # Joined, textstat would merge the short items into one long sentence; per item they stay short.
    assert readability.level(short_items).grade < textstat.flesch_kincaid_grade(" ".join(short_items))
    assert readability.level([]).grade is None


def test_readability_runs_on_files_from_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "ldnsite.content.readability", str(FIXTURES / "testamol.md"), str(FIXTURES / "about.md")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["page", "words", "FK", "core", "FK", "key", "facts"]
    testamol = lines[1].split()
    assert testamol[0] == "testamol.md" and int(testamol[1]) > 100 and testamol[3] != "-"
    assert lines[2].split()[0] == "about.md" and lines[2].split()[3] == "-"
    missing = subprocess.run(
        [sys.executable, "-m", "ldnsite.content.readability", "/no/such.md"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 1 and "/no/such.md" in missing.stderr
