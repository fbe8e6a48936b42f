"""Collecting matches within a budget, so that every query answers in bounded time.

Why a budget: Whoosh finds and scores matches one at a time in pure Python,
a few microseconds each. Two common words ("ldn sleep") can match half of a
100,000-post forum, and scoring all of them takes a second; a phrase of two
common words spends as long rejecting candidates. So the forum pass of a
search stops after MATCH_BUDGET scored matches or TIME_BUDGET seconds,
whichever comes first, and says that it stopped (the reader sees "more
than N results"). The clock is checked inside the posting lists themselves
(_DeadlineMatcher), so a phrase that rejects thousands of candidates stops
on time as well.

What is scanned first, so that what a budget leaves out matters least:

* pages are searched in a pass of their own with no budget (there are few,
  and they are what most readers came for), see service.py;
* forum documents newest first: a rebuild adds them newest first (see
  documents.forum_documents), and segments written since, which hold the
  newest posts, are visited before older segments.

So for a very common query the forum results are the best matches among the
newest few thousand matching posts. Anything rarer is searched in full.

Why every OR becomes an array union: Whoosh's default OR is a binary tree of
matchers that moves every branch for every document; the array union reads
each branch 2,048 documents at a time and adds up scores in an array, which
makes a word searched in three fields, with its synonyms, about three times
cheaper per match (bench/README.md).
"""

from __future__ import annotations

import time

from whoosh.collectors import TopCollector, WrappingCollector
from whoosh.matching import NullMatcher, WrappingMatcher
from whoosh.query import And, Or, Phrase, Query, Require, SpanNear2, Term

from ldnsite.search.matchers import AndNot

MATCH_BUDGET = 2000  # scored matches in the forum pass
TIME_BUDGET = 0.015  # seconds for the forum pass
_CLOCK_EVERY = 64  # posting-list steps between looks at the clock (the first step looks too)


class Deadline:
    """Shared by every posting list of one query: once expired, they all report that they are done."""

    def __init__(self, seconds: float | None) -> None:
        self.at = time.perf_counter() + seconds if seconds is not None else None
        self.expired = False
        self._steps = 0

    def tick(self) -> None:
        self._steps += 1
        if self.at is not None and self._steps % _CLOCK_EVERY == 1 and time.perf_counter() > self.at:
            self.expired = True


class _DeadlineMatcher(WrappingMatcher):
    def __init__(self, child, deadline: Deadline, boost: float = 1.0) -> None:
        super().__init__(child, boost=boost)
        self.deadline = deadline

    def copy(self):
        return self.__class__(self.child.copy(), self.deadline, boost=self.boost)

    def _replacement(self, newchild):
        return self.__class__(newchild, self.deadline, boost=self.boost)

    def is_active(self) -> bool:
        return not self.deadline.expired and self.child.is_active()

    def next(self):
        self.deadline.tick()
        return self.child.next()

    def skip_to(self, docnum):
        self.deadline.tick()
        return self.child.skip_to(docnum)


class _TimedTerm(Term):
    def __init__(self, fieldname: str, text, boost: float, deadline: Deadline) -> None:
        super().__init__(fieldname, text, boost=boost)
        self.deadline = deadline

    def matcher(self, searcher, context=None):
        m = super().matcher(searcher, context)
        return _DeadlineMatcher(m, self.deadline) if m.is_active() else m


class _TimedPhrase(Phrase):
    """Whoosh's Phrase.matcher, with timed terms: a phrase rejects most candidates without yielding."""

    def __init__(self, phrase: Phrase, deadline: Deadline) -> None:
        super().__init__(phrase.fieldname, phrase.words, slop=phrase.slop, boost=phrase.boost)
        self.deadline = deadline

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        field = searcher.schema[self.fieldname]
        terms = []
        for word in self.words:
            if (self.fieldname, field.to_bytes(word)) not in reader:
                return NullMatcher()  # a word the field lacks: the phrase cannot match
            terms.append(_TimedTerm(self.fieldname, word, 1.0, self.deadline))
        m = SpanNear2(terms, slop=self.slop, ordered=True, mindist=1).matcher(searcher, context)
        return WrappingMatcher(m, boost=self.boost) if self.boost != 1.0 else m


class _ArrayOr(Or):
    matcher_type = Or.ARRAY_MATCHER


def timed(q: Query, deadline: Deadline) -> Query:
    """The same query with array unions and posting lists that stop when the deadline passes.

    Only for the forum pass: the pages pass keeps Whoosh's own unions, which
    skip straight to the few page documents instead of reading every branch
    2,048 documents at a time.

    The excluding side of AndNot and the filter of Require are left untimed:
    a list that stopped early would let through what it should exclude.
    """
    if isinstance(q, AndNot):
        return AndNot(timed(q.a, deadline), q.b)
    if isinstance(q, Require):
        return Require(timed(q.a, deadline), q.b)
    if isinstance(q, Or):
        return _ArrayOr([timed(s, deadline) for s in q.subqueries], boost=q.boost)
    if isinstance(q, And):
        return And([timed(s, deadline) for s in q.subqueries], boost=q.boost)
    if isinstance(q, Phrase):
        return _TimedPhrase(q, deadline)
    if isinstance(q, Term):
        return _TimedTerm(q.fieldname, q.text, q.boost, deadline)
    return q


class BudgetCollector(WrappingCollector):
    """Visits segments newest first and stops at the match budget or the deadline.

    It wraps a collector that never skips a match (no block-quality skipping,
    no matcher replacement), so when it is not cut short, `scored` is the
    exact number of matches and no second counting pass is needed.
    """

    def __init__(self, child, deadline: Deadline, matches: int | None = MATCH_BUDGET) -> None:
        super().__init__(child)
        self.deadline = deadline
        self.max_matches = matches
        self.scored = 0
        self.cut_short = False

    @classmethod
    def top(cls, limit: int, deadline: Deadline, matches: int | None = MATCH_BUDGET) -> BudgetCollector:
        return cls(TopCollector(limit=limit, usequality=False, replace=0), deadline, matches)

    def run(self) -> None:
        try:
            for subsearcher, offset in reversed(list(self.top_searcher.leaf_searchers())):
                self.set_subsearcher(subsearcher, offset)
                self.collect_matches()
                if self.cut_short:
                    break
        finally:
            self.finish()

    def collect_matches(self) -> None:
        collect = self.child.collect
        limit = self.max_matches
        for sub_docnum in self.child.matches():
            collect(sub_docnum)
            self.scored += 1
            if limit is not None and self.scored >= limit:
                self.cut_short = True
                return
        if self.deadline.expired:
            self.cut_short = True
