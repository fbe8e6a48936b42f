"""The naive way to use Whoosh, kept only so the benchmark can compare against it.

It is what Flask-WhooshAlchemy and many tutorials do: open the index and a
new searcher for every query, parse with Whoosh's own MultifieldParser, and
take the top hits. It lives here because every `import whoosh` stays in this
package; the site itself never calls it.
"""

from __future__ import annotations

from whoosh import index
from whoosh.qparser import MultifieldParser
from whoosh.query import Term

from ldnsite.search.schema import TEXT_FIELDS
from ldnsite.search.service import Hit
from ldnsite.search.storage import INDEX_NAME


def naive_search(index_path: str, text: str, limit: int = 10, pages_only: bool = False) -> tuple[list[Hit], frozenset[str]]:
    """Whoosh's own parser and BM25F scorer over the same index (so with the same analyzer and synonyms)."""
    ix = index.open_dir(index_path, indexname=INDEX_NAME)  # memory-mapped, as open_dir does by default
    with ix.searcher() as searcher:
        query = MultifieldParser(list(TEXT_FIELDS), ix.schema).parse(text)
        results = searcher.search(query, limit=limit, filter=Term("kind", "page") if pages_only else None)
        hits = [Hit(h["kind"], h["ref"]) for h in results]
        terms = frozenset(t for f, t in query.all_terms() if f in TEXT_FIELDS)
    return hits, terms
