"""Reading level of a page: Flesch–Kincaid grade of its prose and, separately, of its key facts.

Why: many readers have brain fog or are reading on a phone when exhausted,
so the pages aim for grade 7 (key facts grade 6). A number per page lets a
writer see which page, and which part, needs shorter sentences and words.

What is measured ("core text"): the paragraphs and list items the reader
sees, that is the body, the safety warning and the questions, with
citations removed. Headings, tables, the reference list, the evidence table
and care card headings are left out: they are labels, not sentences.

How: textstat counts the words, syllables (CMU dictionary, hyphenation for
unknown words) and sentences of each block; the grade is the standard
formula 0.39 × words/sentence + 11.8 × syllables/word − 15.59 over the
totals. Each block counts as at least one sentence. Counting block by
block matters for bullet lists: on the joined text textstat drops
"sentences" of one or two words, so a list of short items ("headache",
"feeling sick") would be glued onto the next sentence and score as one
very long sentence.

Run it on files as they are being written:

    .venv/bin/python -m ldnsite.content.readability site/low-dose-naltrexone.md [...]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import textstat

from ldnsite.content.store import ContentError, Page, parse_file

# Failures above these, for the patterns readers meet first (the rest are reported only).
CORE_LIMIT = 7.0
KEY_FACTS_LIMIT = 6.0
LIMITED_PATTERNS = ("medicine", "condition", "therapy")


@dataclass(frozen=True)
class Level:
    words: int
    grade: float | None  # None: no prose to measure


@dataclass(frozen=True)
class Reading:
    core: Level
    key_facts: Level


def level(blocks: list[str]) -> Level:
    words = sentences = syllables = 0
    for raw in blocks:
        block = raw.strip()
        if not block:
            continue
        if block[-1] not in ".!?":
            block += "."
        n = textstat.lexicon_count(block)
        if n == 0:
            continue
        words += n
        syllables += textstat.syllable_count(block)
        sentences += max(1, textstat.sentence_count(block))
    if words == 0:
        return Level(0, None)
    grade = 0.39 * words / sentences + 11.8 * syllables / words - 15.59
    return Level(words, round(grade, 1))


def measure(page: Page) -> Reading:
    return Reading(core=level(page.prose), key_facts=level(page.key_fact_prose))


def over_limit(page: Page, reading: Reading) -> list[str]:
    """Reading-level failures for `flask content check` (only for the limited patterns)."""
    if page.pattern not in LIMITED_PATTERNS:
        return []
    out = []
    if reading.core.grade is not None and reading.core.grade > CORE_LIMIT:
        out.append(f"reading level of the core text is grade {reading.core.grade} (at most {CORE_LIMIT:g})")
    if reading.key_facts.grade is not None and reading.key_facts.grade > KEY_FACTS_LIMIT:
        out.append(f"reading level of the key facts is grade {reading.key_facts.grade} (at most {KEY_FACTS_LIMIT:g})")
    return out


def fmt(grade: float | None) -> str:
    return "-" if grade is None else f"{grade:.1f}"


def table(rows: list[tuple[str, Reading]]) -> list[str]:
    """A fixed-width table: page, words of prose, FK grade of the core text, FK grade of the key facts."""
    width = max([len("page"), *(len(name) for name, _ in rows)])
    lines = [f"{'page':<{width}}  {'words':>5}  {'FK core':>7}  {'FK key facts':>12}"]
    for name, r in rows:
        lines.append(f"{name:<{width}}  {r.core.words:>5}  {fmt(r.core.grade):>7}  {fmt(r.key_facts.grade):>12}")
    return lines


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m ldnsite.content.readability PAGE.md [...]", file=sys.stderr)
        return 2
    rows, failed = [], False
    for arg in argv:
        try:
            rows.append((Path(arg).name, measure(parse_file(Path(arg)))))
        except (OSError, ContentError) as exc:
            print(f"{arg}: {exc}", file=sys.stderr)
            failed = True
    print("\n".join(table(rows)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
