"""Turns parsed clauses into a ranking plan: synonyms, spelling, phrases and capped prefixes.

Why each step:
* Words are analysed exactly as the index analysed them (the index's own
  analyzer, with its synonym table), so question words and fillers are
  dropped ("does", "can", "me"), "4.5mg" is "4.5 mg", and a run of words that
  is a synonym form becomes its group's one canonical token.
* Spelling: a word the index has never seen, or a rare word with a much more
  frequent near neighbour (say 12 forum titles spell "fibromialgia", thousands
  spell "fibromyalgia"), is also searched as that neighbour and offered as
  "Did you mean". Words sharing a stem are never "corrected" into each other.
* Prefixes (`fibro*`) expand to at most PREFIX_CAP words, the most frequent
  first, so a short common prefix stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from ldnsite.search.querylang import Clause, ParsedQuery
from ldnsite.search.ranking import Alt, Plan, Unit
from ldnsite.search.schema import TextAnalyzer, plain_analyzer, stemming_analyzer

PREFIX_CAP = 20
PREFIX_SCAN = 3000
SUGGESTIONS = 5
# A known word is still corrected when a neighbour is this many times as frequent (and common in its own right).
RARE_RATIO = 5
RARE_MIN = 20
TYPO_BOOST = 0.4

_STEM = stemming_analyzer()
_PLAIN = plain_analyzer()


def plain_words(text: str) -> tuple[str, ...]:
    """Lowercased, accent-folded words."""
    return tuple(t.text for t in _PLAIN(text))


def stems(text: str) -> tuple[str, ...]:
    return tuple(t.text for t in _STEM(text, mode="query"))


def synonym_table(analyzer) -> tuple[dict[tuple[str, ...], str], frozenset]:
    """The synonym table inside an analyzer (the Whoosh index's travels in its schema)."""
    if isinstance(analyzer, TextAnalyzer):
        return analyzer.table, analyzer.narrow
    return {}, frozenset()


class Terms(Protocol):
    """What the builder needs from an engine: its analyzer and term statistics (engine.py has both engines)."""

    analyzer: object  # the analyzer documents were indexed with, synonyms included

    def doc_frequency(self, fieldname: str, text: str) -> int: ...

    def suggest(self, fieldname: str, word: str, limit: int, maxdist: int, prefix: int) -> Iterable[str]: ...

    def prefix_terms(self, prefix: str, cap: int) -> list[str]: ...


@dataclass
class BuiltQuery:
    plan: Plan | None
    did_you_mean: str | None
    highlight_terms: frozenset[str] = field(default_factory=frozenset)


class QueryBuilder:
    def __init__(self, terms: Terms, corrections: dict | None = None) -> None:
        self.terms = terms
        self.corrections = corrections if corrections is not None else {}  # word -> suggestion, kept by the caller
        self.table, self.narrow = synonym_table(terms.analyzer)
        self.longest = max((len(k) for k in self.table), default=0)

    # ---- spelling -------------------------------------------------------------------------

    def correction(self, word: str) -> str | None:
        """The spelling to suggest instead of word, or None: unknown words, and rare words beside a common one.

        Whoosh's suggest() takes tens of milliseconds, so answers are kept per
        index generation by the service (frequencies change slowly).
        """
        if len(word) < 4 or not word.isalpha():
            return None
        if word not in self.corrections:
            if len(self.corrections) > 4096:
                self.corrections.clear()
            self.corrections[word] = self._correction(word)
        return self.corrections[word]

    def _correction(self, word: str) -> str | None:
        freq = self.terms.doc_frequency("spell", word)
        if freq and len(word) < 5:
            return None
        # Two edits on a short word turn "dugong" into "during"; typos rarely touch the first letters.
        maxdist, prefix = (1, 1) if len(word) < 8 else (2, 2)
        own = stems(word)
        best, best_freq = None, 0
        for candidate in self.terms.suggest("spell", word, limit=SUGGESTIONS, maxdist=maxdist, prefix=prefix):
            if candidate == word or (freq and stems(candidate) == own) or not stems(candidate):
                continue  # the word itself, another spelling of it, or a stop word ("taan" is not "than")
            cfreq = self.terms.doc_frequency("spell", candidate)
            if freq and (cfreq < RARE_RATIO * freq or cfreq < RARE_MIN):
                continue
            if best is None or cfreq > best_freq:
                best, best_freq = candidate, cfreq
            if not freq:
                break  # unknown word: the nearest spelling (suggest() orders by distance, then frequency)
        return best

    # ---- building -------------------------------------------------------------------------

    def build(self, parsed: ParsedQuery) -> BuiltQuery:
        clauses = [(c, stems(c.text)) for c in parsed.clauses]
        corrected: dict[int, str] = {}
        for i, (clause, toks) in enumerate(clauses):
            words = plain_words(clause.text)
            if clause.quoted or clause.prefix or clause.negated or len(words) != 1 or len(toks) != 1:
                continue
            if self.table.get(toks) and self.terms.doc_frequency("spell", words[0]):
                continue  # a known synonym form ("fibro") is never corrected
            fix = self.correction(words[0])
            if fix:
                corrected[i] = fix

        units: list[Unit] = []
        excluded: list[Alt] = []
        highlight: set[str] = set()
        i = 0
        joined = False
        while i < len(clauses):
            clause, toks = clauses[i]
            alts, span = self._alternatives(clauses, i, corrected)
            i += span
            for alt in alts:
                highlight.update(alt.tokens)
            if not alts:
                joined = clause.or_next and joined
                continue
            if clause.negated:
                excluded += alts
                continue
            if joined and units:
                units[-1].alts += [a for a in alts if a not in units[-1].alts]
            else:
                units.append(Unit(alts))
            joined = clauses[i - 1][0].or_next
        did_you_mean = self._did_you_mean(clauses, corrected) if corrected else None
        if not units:
            return BuiltQuery(None, did_you_mean, frozenset())
        return BuiltQuery(Plan(units, excluded), did_you_mean, frozenset(highlight))

    def _alternatives(self, clauses, i: int, corrected: dict[int, str]) -> tuple[list[Alt], int]:
        """What clause i (and any following clauses in one synonym form) can match; and how many clauses it used."""
        clause, toks = clauses[i]
        if clause.prefix:
            return self._prefix(plain_words(clause.text)[0] if plain_words(clause.text) else clause.text), 1
        if not clause.negated and not clause.quoted:
            # Longest run of plain clauses whose stems form a synonym form: one canonical token.
            run: tuple[str, ...] = ()
            match = None
            for j in range(i, min(len(clauses), i + max(self.longest, 1))):
                c, t = clauses[j]
                if c.prefix or c.negated or c.quoted:
                    break
                run += stems(corrected[j]) if j in corrected else t
                if run in self.table:
                    match = j
                if c.or_next:
                    break
            if match is not None and (match > i or not corrected.get(i)):
                form = run_of(clauses, i, match, corrected)
                return self._form_alts(form, phrase=False), match - i + 1
        if not toks:
            return [], 1
        alts = self._form_alts(toks, phrase=clause.quoted)
        if i in corrected:
            # The typed spelling still matches, but ranks like a rarer cousin of the correction, not above it.
            alts = [Alt(a.how, a.tokens, TYPO_BOOST) for a in alts]
            alts += [a for a in self._form_alts(stems(corrected[i]), phrase=False) if a not in alts]
        return alts, 1

    def _form_alts(self, toks: tuple[str, ...], phrase: bool) -> list[Alt]:
        """A synonym form is its canonical token (one posting list); a narrow form keeps its own word too."""
        if not toks:
            return []
        canonical = self.table.get(toks)
        own = Alt("term", toks) if len(toks) == 1 else Alt("phrase" if phrase else "all", toks)
        if canonical and toks in self.narrow:
            return [own, Alt("term", (canonical,))]
        return [Alt("term", (canonical,))] if canonical else [own]

    def _prefix(self, prefix: str) -> list[Alt]:
        """The PREFIX_CAP most frequent indexed terms starting with prefix (stems start as their words do)."""
        if len(prefix) < 2:
            toks = stems(prefix)
            return [Alt("term", toks)] if len(toks) == 1 else []
        return [Alt("term", (t,)) for t in self.terms.prefix_terms(prefix, PREFIX_CAP)]

    @staticmethod
    def _did_you_mean(clauses: list[tuple[Clause, tuple]], corrected: dict[int, str]) -> str:
        parts = []
        for i, (clause, _toks) in enumerate(clauses):
            text = corrected.get(i, clause.text)
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


def run_of(clauses, i: int, j: int, corrected: dict[int, str]) -> tuple[str, ...]:
    run: tuple[str, ...] = ()
    for k in range(i, j + 1):
        run += stems(corrected[k]) if k in corrected else clauses[k][1]
    return run
