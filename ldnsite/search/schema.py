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
from collections.abc import Iterable, Iterator

from whoosh.analysis import Analyzer, Token
from whoosh.fields import DATETIME, ID, TEXT, Schema
from whoosh.lang.porter import stem as porter_stem
from whoosh.support.charset import accent_map

# Function words and the words of a question: they never decide whether a page answers.
STOP_WORDS = frozenset(
    """
a about after again all also am an and any anybody anyone are as at be been being but by can could did do does
doing for from get got had has have having he her hers how i if in into is it its just let me mine my myself
no nor not of off on one or our ours out really should so some someone something than that the their them then
there these they this those to too us very was we were what when where which while who whom why will with would
you your yours please thanks thank hi hello s t d ll m re ve
""".split()
)

# An email address (dropped), a number with its decimals, or a run of letters.
TOKEN_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d+(?:[.,]\d+)*|[^\W\d_]+")
ME_MARK = "myalgicencephalomyelitis"  # what a capital "ME" is read as, before lowercasing
SYNONYM_PREFIX = "~"  # canonical tokens start with it; the tokenizer never produces it


class TextAnalyzer(Analyzer):
    """The whole analysis chain in one pass: tokenise, drop addresses, mark "ME", lowercase, fold accents,
    then (when stemming) drop stop words, stem and add synonyms' canonical tokens.

    Why one class rather than a chain of Whoosh filters: every filter is a
    generator that every token passes through, and seven of them made
    analysis half the time of a rebuild. This gives the tokens the chain of
    RegexTokenizer, LowercaseFilter, CharsetFilter(accent_map), StopFilter
    and StemFilter gave (tests/test_search_analysis.py compares the two), with
    Whoosh's keyword arguments (positions, chars, removestops, start_pos,
    start_char, tokenize, mode).

    Synonyms: `table` maps a tuple of stems to the canonical token (longest
    form first). The original tokens stay, so a phrase or a single word of a
    form still matches; the canonical token takes the position of the form's
    first word and spans the whole form.
    """

    def __init__(self, stem: bool = True, table: dict[tuple[str, ...], str] | None = None, narrow: frozenset = frozenset()) -> None:
        self.stem = stem
        self.table = dict(table or {})
        self.narrow = frozenset(narrow)  # forms that add a broader token (tramadol: opioid) but are not equal to it
        self._prepare()

    def _prepare(self) -> None:
        self.is_morph = self.stem
        self.longest = max((len(k) for k in self.table), default=0)
        self.starts = frozenset(form[0] for form in self.table)
        self._known: dict[str, tuple[str, bool]] = {}

    def __getstate__(self) -> dict:
        return {"stem": self.stem, "table": self.table, "narrow": self.narrow}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._prepare()

    def __eq__(self, other) -> bool:
        return isinstance(other, TextAnalyzer) and (other.stem, other.table, other.narrow) == (self.stem, self.table, self.narrow)

    def __hash__(self) -> int:
        return hash((self.stem, len(self.table)))

    def _word(self, original: str) -> tuple[str, bool]:
        """A word as indexed (folded, and stemmed when stemming), and whether it is a stop word; remembered."""
        found = self._known.get(original)
        if found is None:
            if len(self._known) > 200_000:
                self._known.clear()
            text = (ME_MARK if original == "ME" else original).lower().translate(accent_map)
            stop = self.stem and text in STOP_WORDS
            if self.stem and not stop:
                text = porter_stem(text)
            found = self._known[original] = (text, stop)
        return found

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs,
    ) -> Iterator[Token]:
        # Like Whoosh's tokenizers, one Token object is reused: read each token before asking for the next.
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        words = self._words(value, removestops, start_pos, start_char, tokenize)
        table = self.table if self.stem else None
        starts, longest, count = self.starts, self.longest, len(words)
        for i, (text, original, pos, start, end, stopped) in enumerate(words):
            t.text, t.stopped, t.boost = text, stopped, 1.0
            if keeporiginal:
                t.original = original
            if positions:
                t.pos = pos
            if chars:
                t.startchar, t.endchar = start, end
            yield t
            if table and text in starts:
                for n in range(min(longest, count - i), 0, -1):
                    canonical = table.get(tuple(w[0] for w in words[i : i + n]))
                    if canonical is not None:
                        t.text, t.stopped = canonical, False
                        if chars:
                            t.endchar = words[i + n - 1][4]
                        yield t
                        break

    def _words(
        self, value: str, removestops: bool, start_pos: int, start_char: int, tokenize: bool
    ) -> list[tuple[str, str, int, int, int, bool]]:
        """(text, original, position, start char, end char, stopped) for each word kept."""
        if not tokenize:
            matches: Iterable = ((value, 0, len(value)),)
        else:
            matches = ((m.group(0), m.start(), m.end()) for m in TOKEN_PATTERN.finditer(value))
        stem, word_of = self.stem, self._word
        words = []
        renumbered = None  # StopFilter's numbering: the first kept word keeps its position, the rest follow it
        for pos, (original, start, end) in enumerate(matches):
            if "@" in original:
                continue
            text, stop = word_of(original)
            position = start_pos + pos
            if stop:
                if not removestops:
                    words.append((text, original, position, start_char + start, start_char + end, True))
                continue
            if stem:
                renumbered = position if renumbered is None else renumbered + 1
                position = renumbered
            words.append((text, original, position, start_char + start, start_char + end, False))
        return words


def stemming_analyzer(synonyms: tuple[dict, frozenset] | None = None) -> TextAnalyzer:
    """Tokenise, drop addresses, mark "ME", lowercase, fold accents, drop stop words, stem, add synonyms."""
    table, narrow = synonyms or ({}, frozenset())
    return TextAnalyzer(stem=True, table=table, narrow=narrow)


def plain_analyzer() -> TextAnalyzer:
    """Unstemmed words for spelling suggestions and prefix matching."""
    return TextAnalyzer(stem=False)


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


class DateColumn(DATETIME):
    """A date kept only as a sortable column: ranking reads it per segment (sort by date), no query searches it.

    Why not a plain DATETIME: an indexed date adds four trie terms per document, and writing those
    postings was a tenth of a full rebuild's time for nothing a reader could use.
    """

    indexed = False


# Field weights for the forum; pages have their own (ranking.py).
FIELD_BOOSTS = {"title": 4.0, "keywords": 3.0, "body": 1.0}
TEXT_FIELDS = tuple(FIELD_BOOSTS)


def build_schema(synonyms: tuple[dict, frozenset] | None = None) -> Schema:
    stem = stemming_analyzer(synonyms)
    return Schema(
        key=ID(stored=True, unique=True),  # "page:<slug>", "topic:<id>", "post:<id>"
        kind=ID(stored=True),  # page | topic | post
        ref=ID(stored=True),  # slug or database id
        topic=ID(),  # a reply's topic id, so removing a topic drops its replies in one delete
        title=TEXT(analyzer=stem),
        keywords=TEXT(analyzer=stem),  # editors' keywords plus the names of the conditions a document is about
        body=TEXT(analyzer=stem),  # summary and text
        spell=TEXT(analyzer=plain_analyzer(), phrase=False),
        date=DateColumn(sortable=True),
    )
