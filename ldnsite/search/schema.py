"""The Whoosh schema and analyzers: the one description of what a search document holds.

Why two kinds of text field: the searchable fields are stemmed (so "dosing"
finds "dose") with accents folded (so "Sjogren" finds "Sjögren"), but a
stemmed field cannot feed "Did you mean": its terms are stems, not words. The
separate `spell` field keeps the plain, unstemmed words for suggestions.

Why synonyms are applied when indexing: every form of a synonym group
("LDN", "low dose naltrexone", "naltrexone") also indexes one canonical
token ("~ldn"), so a search for any of them reads one posting list instead of
a list per form. The synonym table travels inside the index's own schema, so
a query is always analysed with the synonyms its index was built with
(changing site/synonyms.txt means `flask index ensure` rebuilds).

Why the tokenizer is our own: "4.5mg" must give "4.5" and "mg", as "4.5 mg"
does; an email address is not a word ("privacy@ldn-guide.example" must not
make the privacy page match "ldn"); and "ME" in capitals is the illness while
"me" is a pronoun, which only the original case tells apart.

Only identifiers and dates are stored: results are ids, the rows are loaded
from the database and snippets are cut from the database's current text, so
the index never shows text the database has since hidden.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator

from whoosh.analysis import (
    CharsetFilter,
    Composable,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)
from whoosh.fields import DATETIME, ID, TEXT, Schema
from whoosh.support.charset import accent_map

# Function words and the words of a question: they never decide whether a page answers.
STOP_WORDS = frozenset("""
a about after again all also am an and any anybody anyone are as at be been being but by can could did do does
doing for from get got had has have having he her hers how i if in into is it its just let me mine my myself
no nor not of off on one or our ours out really should so some someone something than that the their them then
there these they this those to too us very was we were what when where which while who whom why will with would
you your yours please thanks thank hi hello s t d ll m re ve
""".split())

# An email address (dropped), a number with its decimals, or a run of letters.
TOKEN_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d+(?:[.,]\d+)*|[^\W\d_]+")
ME_MARK = "myalgicencephalomyelitis"  # what a capital "ME" is read as, before lowercasing
SYNONYM_PREFIX = "~"  # canonical tokens start with it; the tokenizer never produces it


class CaseAndAddressFilter(Filter):
    """Drops email addresses and reads a capital "ME" as the illness, before case is lost."""

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for t in tokens:
            if "@" in t.text:
                continue
            if t.text == "ME":
                t.text = ME_MARK
            yield t


class SynonymFilter(Filter):
    """Adds a group's canonical token where any of its forms occurs (longest form first).

    `table` maps a tuple of stems to the canonical token. The original tokens
    stay, so a phrase or a single word of a form still matches; the canonical
    token takes the position of the form's first word.
    """

    def __init__(self, table: dict[tuple[str, ...], str] | None = None, narrow: frozenset = frozenset()) -> None:
        self.table = dict(table or {})
        self.narrow = frozenset(narrow)  # forms that add a broader token (tramadol: opioid) but are not equal to it
        self.longest = max((len(k) for k in self.table), default=0)

    def __eq__(self, other) -> bool:
        return isinstance(other, SynonymFilter) and (other.table, other.narrow) == (self.table, self.narrow)

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        table = self.table
        if not table:
            yield from tokens
            return
        starts = {form[0] for form in table}
        longest = self.longest
        stream = iter(tokens)
        pending: deque[Token] = deque()  # copies read ahead (the tokenizer reuses one Token object)
        while True:
            t = pending.popleft() if pending else next(stream, None)
            if t is None:
                return
            if t.text not in starts:
                yield t
                continue
            t = t.copy()
            while len(pending) < longest - 1:
                ahead = next(stream, None)
                if ahead is None:
                    break
                pending.append(ahead.copy())
            window = [t, *pending]
            yield t
            for n in range(min(longest, len(window)), 0, -1):
                canonical = table.get(tuple(w.text for w in window[:n]))
                if canonical is not None:
                    extra = t.copy()
                    extra.text = canonical
                    if t.chars and n > 1:
                        extra.endchar = window[n - 1].endchar
                    yield extra
                    break


def _base() -> Composable:
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | CaseAndAddressFilter()
        | LowercaseFilter()
        | CharsetFilter(accent_map)
    )


def stemming_analyzer(synonyms: tuple[dict, frozenset] | None = None) -> Composable:
    """Tokenise, drop addresses, mark "ME", lowercase, fold accents, drop stop words, stem, add synonyms."""
    table, narrow = synonyms or ({}, frozenset())
    return (_base() | StopFilter(stoplist=STOP_WORDS, minsize=1) | StemFilter(cachesize=50000)
            | SynonymFilter(table, narrow))


def plain_analyzer() -> Composable:
    """Unstemmed words for spelling suggestions and prefix matching."""
    return _base()


def canonical_token(stems: tuple[str, ...]) -> str:
    return SYNONYM_PREFIX + "_".join(stems)


def synonym_table(groups: list[list[str]], narrower: list[tuple[str, list[str]]] = ()) -> tuple[dict, frozenset]:
    """Each form of each group, as stems, mapped to the group's canonical token (its first form).

    A narrow term ("tramadol" under "opioid") maps to the broad term's token
    and is listed in the second value, so a query keeps its own word too.
    """
    analyzer = stemming_analyzer()

    def form(term: str) -> tuple[str, ...]:
        return tuple(t.text for t in analyzer(term))

    table: dict[tuple[str, ...], str] = {}
    for group in groups:
        forms = [f for f in map(form, group) if f]
        if len(forms) < 2:
            continue
        canonical = canonical_token(forms[0])
        for f in forms:
            table.setdefault(f, canonical)
    narrow: set[tuple[str, ...]] = set()
    for broad, terms in narrower:
        b = form(broad)
        if not b:
            continue
        canonical = table.setdefault(b, canonical_token(b))
        for f in map(form, terms):
            if f and f not in table:
                table[f] = canonical
                narrow.add(f)
    return table, frozenset(narrow)


# Field weights for the forum; pages have their own (ranking.py).
FIELD_BOOSTS = {"title": 4.0, "keywords": 3.0, "body": 1.0}
TEXT_FIELDS = tuple(FIELD_BOOSTS)


def build_schema(synonyms: tuple[dict, frozenset] | None = None) -> Schema:
    stem = stemming_analyzer(synonyms)
    return Schema(
        key=ID(stored=True, unique=True),  # "page:<slug>", "topic:<id>", "post:<id>"
        kind=ID(stored=True),  # page | topic | post
        ref=ID(stored=True),  # slug or database id
        url=ID(stored=True),
        topic=ID(),  # a reply's topic id, so removing a topic drops its replies in one delete
        title=TEXT(analyzer=stem),
        keywords=TEXT(analyzer=stem),  # editors' keywords plus the names of the conditions a document is about
        body=TEXT(analyzer=stem),  # summary and text
        spell=TEXT(analyzer=plain_analyzer(), phrase=False),
        date=DATETIME(stored=True, sortable=True),
    )
