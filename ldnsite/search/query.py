"""Turns parsed clauses into a Whoosh query: synonyms, spelling, phrases and capped prefixes.

Why each step:
* Synonyms come from site/synonyms.txt, so "Lyrica" finds the pregabalin page
  and "CFS" the ME/CFS page without the index knowing about brand names.
* A word the index has never seen is corrected from the unstemmed `spell`
  field: the corrections are searched too (typo tolerance) and offered as
  "Did you mean". Known words are never "corrected".
* Prefixes (`fibro*`) expand to at most PREFIX_CAP words, the most frequent
  first, so a short common prefix cannot make a query take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from whoosh.query import And, Or, Phrase, Query, Term

from ldnsite.search.matchers import AndNot
from ldnsite.search.querylang import Clause, ParsedQuery
from ldnsite.search.schema import FIELD_BOOSTS, TEXT_FIELDS, plain_analyzer, stemming_analyzer
from ldnsite.search.synonyms import Synonyms, Words

PREFIX_CAP = 20
PREFIX_SCAN = 3000
SUGGESTIONS = 3

_STEM = stemming_analyzer()
_PLAIN = plain_analyzer()


def plain_words(text: str) -> Words:
    """Lowercased, accent-folded words: how synonyms and spelling compare text."""
    return tuple(t.text for t in _PLAIN(text))


def stems(text: str) -> list[str]:
    return [t.text for t in _STEM(text, mode="query")]


@dataclass
class Unit:
    """One thing every result must match (or may match, within an OR group)."""

    alternatives: list[Words]  # any of these word sequences
    quoted: bool = False  # the reader's own "quoted phrase"
    prefix: str | None = None
    negated: bool = False
    or_next: bool = False


@dataclass
class BuiltQuery:
    query: Query | None  # all positive units required
    any_query: Query | None  # the same units, any of them (fallback when nothing matches all)
    positive_units: int
    did_you_mean: str | None
    highlight_terms: frozenset[str] = field(default_factory=frozenset)


class QueryBuilder:
    def __init__(self, searcher, synonyms: Synonyms) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.synonyms = synonyms

    # ---- spelling -------------------------------------------------------------------------

    def known(self, word: str) -> bool:
        """A word is known if it appears as typed; "naltrexon" matches by its stem but still earns a suggestion."""
        return self.reader.doc_frequency("spell", word) > 0

    def corrections(self, word: str) -> list[str]:
        if len(word) < 4 or not word.isalpha():
            return []
        # Two edits on a short word turn "dugong" into "during"; typos rarely touch the first letters,
        # and a shared prefix keeps the search of the word list short.
        maxdist, prefix = (1, 1) if len(word) < 8 else (2, 2)
        return list(self.searcher.suggest("spell", word, limit=SUGGESTIONS, maxdist=maxdist, prefix=prefix))

    # ---- building -------------------------------------------------------------------------

    def build(self, parsed: ParsedQuery) -> BuiltQuery:
        clauses: list[tuple[Clause, Words]] = []
        for clause in parsed.clauses:
            words = plain_words(clause.text)
            if words:
                clauses.append((clause, words))

        corrected: dict[int, list[str]] = {}
        for i, (clause, words) in enumerate(clauses):
            if clause.quoted or clause.prefix or clause.negated or len(words) != 1:
                continue
            if self.synonyms.group_of(words) or self.known(words[0]):
                continue
            fixes = self.corrections(words[0])
            if fixes:
                corrected[i] = fixes

        units = self._units(clauses, corrected)
        positives = [u for u in units if not u.negated]
        negatives = [u for u in units if u.negated]
        groups: list[list[Query]] = []
        joined = False
        for unit in positives:
            q = self._unit_query(unit)
            if q is None:
                joined = unit.or_next and joined
                continue
            if joined and groups:
                groups[-1].append(q)
            else:
                groups.append([q])
            joined = unit.or_next
        required = [g[0] if len(g) == 1 else Or(g) for g in groups]
        excluded = [q for q in (self._unit_query(u) for u in negatives) if q is not None]

        def combine(parts: list[Query], conj) -> Query | None:
            if not parts:
                return None
            q = parts[0] if len(parts) == 1 else conj(parts)
            return (AndNot(q, Or(excluded)) if excluded else q).normalize()

        query = combine(required, And)
        any_query = combine(required, Or) if len(required) > 1 else None
        terms = frozenset(text for fieldname, text in (Or(required).all_terms() if required else ())
                          if fieldname in TEXT_FIELDS)
        did_you_mean = self._did_you_mean(clauses, corrected) if corrected else None
        return BuiltQuery(query, any_query, len(required), did_you_mean, terms)

    def _units(self, clauses: list[tuple[Clause, Words]], corrected: dict[int, list[str]]) -> list[Unit]:
        """Group clauses into units, replacing any run of words that is a synonym by its whole group."""
        units: list[Unit] = []
        i = 0
        while i < len(clauses):
            clause, words = clauses[i]
            if clause.prefix:
                units.append(Unit([], prefix=words[0], negated=clause.negated, or_next=clause.or_next))
                i += 1
                continue
            # Longest run of clauses starting here whose words form a synonym entry.
            match = None
            if not clause.negated:
                span_words: Words = ()
                for j in range(i, min(len(clauses), i + max(self.synonyms.longest, 1))):
                    c, w = clauses[j]
                    if c.prefix or c.negated or (c.quoted and j != i):
                        break
                    span_words += (corrected[j][0],) if j in corrected else w
                    group = self.synonyms.group_of(span_words)
                    if group:
                        match = (j, group)
                    if c.quoted or c.or_next:
                        break
            if match:
                j, group = match
                # The reader's own words first: a quoted phrase stays a phrase, synonyms are alternatives.
                own = clauses[i][1] if j == i else None
                group_words = ([own] if own else []) + [g for g in group if g != own]
                units.append(Unit(group_words, quoted=clause.quoted and j == i, or_next=clauses[j][0].or_next))
                i = j + 1
                continue
            alternatives = [words] + [(fix,) for fix in corrected.get(i, [])]
            for fix in corrected.get(i, []):  # a corrected brand name still finds its generic page
                group = self.synonyms.group_of((fix,))
                if group:
                    alternatives += [g for g in group if g not in alternatives]
            units.append(Unit(alternatives, quoted=clause.quoted, negated=clause.negated, or_next=clause.or_next))
            i += 1
        return units

    def _unit_query(self, unit: Unit) -> Query | None:
        if unit.prefix is not None:
            return self._prefix_query(unit.prefix)
        parts = []
        kept: list[frozenset[str]] = []
        order = sorted(range(len(unit.alternatives)), key=lambda i: (not (unit.quoted and i == 0), len(unit.alternatives[i])))
        for i in order:
            words = unit.alternatives[i]
            phrase = unit.quoted and i == 0
            if not phrase:
                # "me cfs" adds nothing once "cfs" is an alternative: any document with both has "cfs".
                tokens = frozenset(stems(" ".join(words)))
                if not tokens or any(k <= tokens for k in kept):
                    continue
                kept.append(tokens)
            q = self._words_query(words, phrase=phrase)
            if q is not None:
                parts.append(q)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else Or(parts)

    def _words_query(self, words: Words, phrase: bool = False) -> Query | None:
        """Several words must all appear in one field; in order only when quoted.

        Why not always a phrase: phrase matching decodes word positions, which
        is slow on long pages, and a synonym such as "chronic fatigue syndrome"
        is specific enough without it.
        """
        tokens = stems(" ".join(words))
        if not tokens:
            return None
        if len(tokens) == 1:
            return Or([Term(f, tokens[0], boost=FIELD_BOOSTS[f]) for f in TEXT_FIELDS])
        if phrase:
            slop = 1 + len(words) - len(tokens)  # room for stop words the analyzer dropped
            return Or([Phrase(f, tokens, slop=slop, boost=FIELD_BOOSTS[f]) for f in TEXT_FIELDS])
        return Or([And([Term(f, t) for t in tokens], boost=FIELD_BOOSTS[f]) for f in TEXT_FIELDS])

    def _prefix_query(self, prefix: str) -> Query | None:
        """The PREFIX_CAP most frequent indexed terms starting with prefix (stems start as their words do)."""
        if len(prefix) < 2:
            return self._words_query((prefix,))
        candidates: dict[str, int] = {}
        for fieldname in ("title", "body"):
            for n, term in enumerate(self.reader.expand_prefix(fieldname, prefix)):
                if n >= PREFIX_SCAN:
                    break
                text = term.decode("utf-8") if isinstance(term, bytes) else term
                candidates[text] = candidates.get(text, 0) + self.reader.doc_frequency(fieldname, text)
        chosen = sorted(candidates, key=lambda t: -candidates[t])[:PREFIX_CAP]
        if not chosen:
            return Term("body", prefix)  # matches nothing, keeps the query well-formed
        return Or([Term(f, t, boost=FIELD_BOOSTS[f]) for t in chosen for f in TEXT_FIELDS])

    @staticmethod
    def _did_you_mean(clauses: list[tuple[Clause, Words]], corrected: dict[int, list[str]]) -> str:
        parts = []
        for i, (clause, _words) in enumerate(clauses):
            text = corrected[i][0] if i in corrected else clause.text
            if clause.quoted:
                text = f'"{text}"'
            if clause.prefix:
                text += "*"
            if clause.negated:
                text = "-" + text
            parts.append(text)
            if clause.or_next and i < len(clauses) - 1:
                parts.append("OR")
        return " ".join(parts)
