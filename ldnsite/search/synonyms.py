"""Synonym groups from site/synonyms.txt, kept beside the content they describe.

Format: one group a line, terms separated by commas, the first term the
canonical one; `#` starts a comment. Case matters only for the acronym "ME"
(written in capitals, it is the illness; "me" is a pronoun). Example:

    low dose naltrexone, LDN, naltrexone
    pregabalin, lyrica

Why the groups are applied when indexing (schema.TextAnalyzer): a search
for any form then reads one posting list. The index keeps the table it was
built with, and `flask index ensure` rebuilds when the file changes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ldnsite.search.schema import synonym_table


def read_groups(text: str) -> tuple[list[list[str]], list[tuple[str, list[str]]]]:
    """Equivalence groups, and "broad > narrow, ..." lines as (broad, narrow terms)."""
    groups: list[list[str]] = []
    narrower: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        broad, arrow, rest = line.partition(">")
        if arrow:
            terms = [term.strip() for term in rest.split(",") if term.strip()]
            if broad.strip() and terms:
                narrower.append((broad.strip(), terms))
            continue
        group = [term.strip() for term in line.split(",") if term.strip()]
        if len(group) > 1:
            groups.append(group)
    return groups, narrower


def load(path: Path) -> tuple[tuple[dict, frozenset], str]:
    """The synonym table and narrow forms for the schema, and a hash of the file (to notice edits)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    return synonym_table(*read_groups(text)), hashlib.sha256(text.encode()).hexdigest()
