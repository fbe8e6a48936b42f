"""A corrected AndNot: Whoosh 2.7.5's own can return the first match even when it is excluded.

Why: AndNotMatcher checks the first candidate against the excluded list only
when both lists happen to start on the same document. When the excluded list
starts earlier ("koala -wombat", where some other document says "wombat"
first), the first koala document is returned even if it says "wombat" too.
Both the reader's "-word" and the forum-only pass of the search use AndNot,
so both go through this class.
"""

from __future__ import annotations

from whoosh.matching import AndNotMatcher
from whoosh.query import AndNot as WhooshAndNot


class _AndNotMatcher(AndNotMatcher):
    def _find_first(self) -> None:
        pos, neg = self.a, self.b
        if pos.is_active() and neg.is_active() and neg.id() < pos.id():
            neg.skip_to(pos.id())
        if pos.is_active() and neg.is_active() and pos.id() == neg.id():
            self._find_next()


class AndNot(WhooshAndNot):
    def matcher(self, searcher, context=None):
        return _AndNotMatcher(self.a.matcher(searcher, context), self.b.matcher(searcher, searcher.boolean_context()))
