"""From hits (ids) to what a reader sees: rows checked against the database, snippets cut from them.

Why snippets come from the database and not the index: the index may lag a
moment behind a moderator. Cutting the snippet from the current row, after
checking that the row is still published, means the page can only show text
a reader may see now.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from ldnsite.content.store import ContentStore
from ldnsite.search.documents import html_to_text, load_visible, page_conditions, page_text
from ldnsite.search.schema import stemming_analyzer
from ldnsite.search.service import Hit

PAGE_KIND_LABELS = {"article": "Article", "treatment": "Treatment", "condition": "Condition", "info": "Information"}
SNIPPET_CHARS = 160
_ANALYZER = stemming_analyzer()


@dataclass
class ResultItem:
    kind: str  # page | topic | post
    kind_label: str
    title: str
    url: str
    date: date | None
    conditions: list[str] = field(default_factory=list)
    snippet: Markup = field(default_factory=Markup)

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "kind_label": self.kind_label,
            "title": self.title,
            "url": self.url,
            "date": self.date.isoformat() if self.date else None,
            "conditions": self.conditions,
            "snippet_html": str(self.snippet),
        }


def _tokens(text: str, analyzer) -> tuple[tuple[str, int, int], ...]:
    return tuple((t.text, t.startchar, t.endchar) for t in analyzer(text, chars=True, mode="index"))


_PAGE_TOKENS: OrderedDict = OrderedDict()


def _page_tokens(text: str, analyzer) -> tuple[tuple[str, int, int], ...]:
    """A page's tokens, analysed once per process, text and analyzer: a long page takes ~25 ms to analyse."""
    key = (id(analyzer), text)
    found = _PAGE_TOKENS.get(key)
    if found is None:
        found = _PAGE_TOKENS[key] = _tokens(text, analyzer)
        while len(_PAGE_TOKENS) > 128:
            _PAGE_TOKENS.popitem(last=False)
    return found


def cut_snippet(text: str, terms: frozenset[str], analyzer=None, cache: bool = False) -> Markup:
    """About SNIPPET_CHARS of text around the stretch with the most distinct search terms, terms in <mark>.

    Every piece of text is HTML-escaped; only the <mark> tags are raw.
    """
    if not text:
        return Markup("")
    analyzer = analyzer or _ANALYZER
    hits: list[tuple[str, int, int]] = []
    if terms:
        tokens = _page_tokens(text, analyzer) if cache else _tokens(text, analyzer)
        hits = [t for t in tokens if t[0] in terms]
    if not hits:
        short = text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
        return escape(short)
    best, best_count = 0, 0
    for i, (_t, start, _e) in enumerate(hits):
        found = {h[0] for h in hits[i:] if h[1] < start + SNIPPET_CHARS - 50}
        if len(found) > best_count:
            best, best_count = i, len(found)
    start = max(0, hits[best][1] - 50)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < hits[best][1] else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > hits[best][2] else end
    parts, at = [], start
    for _t, s, e in hits:
        if s < at or e > end:
            continue
        parts += [str(escape(text[at:s])), "<mark>", str(escape(text[s:e])), "</mark>"]
        at = e
    parts.append(str(escape(text[at:end])))
    # Safe: every piece of text above went through escape(); only our own <mark> tags are raw.
    return Markup(("… " if start else "") + "".join(parts) + (" …" if end < len(text) else ""))  # noqa: S704


def _day(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def hydrate(hits: list[Hit], terms: frozenset[str], session: Session, store: ContentStore, analyzer=None) -> list[ResultItem]:
    """Rows for the hits, in hit order, dropping anything not visible in the database right now.

    `analyzer` is the index's own (with its synonym table), so "LDN" marks "low dose naltrexone" too.
    """

    def snippet(text: str, terms: frozenset[str], cache: bool = False) -> Markup:
        return cut_snippet(text, terms, analyzer, cache)

    topic_ids = {int(h.ref) for h in hits if h.kind == "topic" and h.ref.isdigit()}
    post_ids = {int(h.ref) for h in hits if h.kind == "post" and h.ref.isdigit()}
    visible = load_visible(session, set(topic_ids), post_ids)
    items: list[ResultItem] = []
    for hit in hits:
        if hit.kind == "page":
            page = store.get(hit.ref)
            if page is None:
                continue
            conditions = [] if page.kind == "condition" else page_conditions(store, page.conditions)
            items.append(
                ResultItem(
                    "page",
                    PAGE_KIND_LABELS.get(page.kind, "Page"),
                    page.title,
                    page.url,
                    _day(page.reviewed),
                    conditions,
                    snippet(page_text(page), terms, cache=True),
                )
            )
        elif hit.kind == "topic" and hit.ref.isdigit():
            topic = visible.topics.get(int(hit.ref))
            if topic is None:
                continue
            opening = visible.openings.get(topic.id)
            items.append(
                ResultItem(
                    "topic",
                    "Forum topic",
                    topic.title,
                    topic.url,
                    _day(topic.created_at),
                    _topic_conditions(store, topic.page_slug),
                    snippet(html_to_text(opening.body_html) if opening else "", terms),
                )
            )
        elif hit.kind == "post" and hit.ref.isdigit():
            post = visible.posts.get(int(hit.ref))
            if post is None:
                continue
            topic = visible.topics[post.topic_id]
            items.append(
                ResultItem(
                    "post",
                    "Forum reply",
                    f"Reply in “{topic.title}”",
                    post.url,
                    _day(post.created_at),
                    _topic_conditions(store, topic.page_slug),
                    snippet(html_to_text(post.body_html), terms),
                )
            )
    return items


def _topic_conditions(store: ContentStore, slug: str | None) -> list[str]:
    if not slug:
        return []
    page = store.get(slug)
    if page is None:
        return []
    return [page.title] if page.kind == "condition" else page_conditions(store, page.conditions)
