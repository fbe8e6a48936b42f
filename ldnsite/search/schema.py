"""The Whoosh schema and analyzers: the one description of what a search document holds.

Why two kinds of text field: the searchable fields are stemmed (so "dosing"
finds "dose") with accents folded (so "Sjogren" finds "Sjögren"), but a
stemmed field cannot feed "Did you mean": its terms are stems, not words, and
Whoosh's own `spelling=True` on a stemmed field breaks fuzzy queries. The
separate `spell` field keeps the plain, unstemmed words for suggestions.

Only identifiers and dates are stored: results are ids, the rows are loaded
from the database and snippets are cut from the database's current text, so
the index never shows text the database has since hidden.
"""

from __future__ import annotations

from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import DATETIME, ID, TEXT, Schema
from whoosh.support.charset import accent_map

# Stop words that matter on this site are kept: "me" (as in ME/CFS) must be searchable.
STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it of on or that the this to was were will with".split()
)


def stemming_analyzer():
    """Tokenise, lowercase, fold accents, drop stop words, then stem (the stemmer expects plain ASCII)."""
    return (
        RegexTokenizer()
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=STOP_WORDS, minsize=1)
        | StemFilter(cachesize=50000)
    )


def plain_analyzer():
    """Unstemmed words for spelling suggestions and prefix matching."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


# Field weights, applied at query time (so tuning them needs no rebuild):
# a word in a title says more about a document than one in its body.
FIELD_BOOSTS = {"title": 4.0, "keywords": 3.0, "body": 1.0}
TEXT_FIELDS = tuple(FIELD_BOOSTS)


def build_schema() -> Schema:
    stem = stemming_analyzer()
    return Schema(
        key=ID(stored=True, unique=True),  # "page:<slug>", "topic:<id>", "post:<id>"
        kind=ID(stored=True),  # page | topic | post
        ref=ID(stored=True),  # slug or database id
        url=ID(stored=True),
        topic=ID(),  # a reply's topic id, so removing a topic drops its replies in one delete
        title=TEXT(analyzer=stem),
        keywords=TEXT(analyzer=stem),  # editors' keywords plus the names of the conditions a document is about
        body=TEXT(analyzer=stem),  # summary and text: fewer fields make every query cheaper (bench)
        spell=TEXT(analyzer=plain_analyzer(), phrase=False),
        date=DATETIME(stored=True, sortable=True),
    )
