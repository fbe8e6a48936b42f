"""What goes into the index for a page, a topic or a post, and what a reader may see.

Why one module for both: the indexer and the query layer must agree on what
"visible" means. Only published posts of published topics are indexed, and
the query layer checks the same rule against the database again before it
shows a result, so a removed post never appears even while the index lags.

A topic's document holds its title and its opening post; replies are
documents of their own. So a topic is one result, not two.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ldnsite.content.store import ContentStore, Page
from ldnsite.forum.models import PUBLISHED, Post, Topic, first_post_ids

CITATION = re.compile(r'\s*<sup class="cite">.*?</sup>', re.S)
BLOCK_TAG = re.compile(r"</?(?:p|li|ul|ol|h[1-6]|div|tr|td|th|table|br|blockquote|pre|section|dd|dt)\b[^>]*>", re.I)
TAG = re.compile(r"<[^>]+>")
SPACE = re.compile(r"\s+")
MARKDOWN_NOISE = re.compile(r"\[\^?[\w-]+\]|[#*_`>|]+")


def html_to_text(markup: str) -> str:
    """Plain text of sanitised HTML, for indexing and for cutting snippets."""
    text = BLOCK_TAG.sub(" ", CITATION.sub("", markup or ""))
    return SPACE.sub(" ", html.unescape(TAG.sub("", text))).strip()


def page_text(page: Page) -> str:
    return html_to_text(page.html) if page.html else SPACE.sub(" ", MARKDOWN_NOISE.sub(" ", page.body_source)).strip()


def page_conditions(store: ContentStore, slugs: Iterable[str]) -> list[str]:
    titles = []
    for slug in slugs:
        condition = store.get(slug)
        titles.append(condition.title if condition else slug.replace("-", " "))
    return titles


def _as_datetime(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day)


def _spell(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def page_document(store: ContentStore, page: Page) -> dict:
    body = page_text(page)
    conditions = " ".join(page_conditions(store, page.conditions))
    if page.kind == "condition":
        conditions = page.title
    keywords = " ".join(page.keywords)
    doc = {
        "key": f"page:{page.slug}",
        "kind": "page",
        "ref": page.slug,
        "title": page.title,
        "keywords": f"{keywords} {conditions}".strip(),
        "body": f"{page.summary}\n{body}",
        "spell": _spell(page.title, page.summary, keywords, body),
    }
    reviewed = _as_datetime(page.reviewed)
    if reviewed:
        doc["date"] = reviewed
    return doc


def topic_document(store: ContentStore, topic: Topic, opening: Post | None) -> dict:
    body = html_to_text(opening.body_html) if opening is not None and opening.status == PUBLISHED else ""
    conditions = ""
    if topic.page_slug:
        page = store.get(topic.page_slug)
        if page is not None:
            conditions = page.title if page.kind == "condition" else " ".join(page_conditions(store, page.conditions))
    return {
        "key": f"topic:{topic.id}",
        "kind": "topic",
        "ref": str(topic.id),
        "topic": str(topic.id),
        "title": topic.title,
        "keywords": conditions,
        "body": body,
        "spell": _spell(topic.title, body),
        "date": topic.created_at,
    }


def post_document(post: Post) -> dict:
    body = html_to_text(post.body_html)
    return {
        "key": f"post:{post.id}",
        "kind": "post",
        "ref": str(post.id),
        "topic": str(post.topic_id),
        "body": body,
        # No spelling words from replies: suggestions come from pages, topic titles and opening
        # posts, which keeps readers' own typos out of "Did you mean" and halves the indexing work.
        "date": post.created_at,
    }


def forum_documents(session: Session, store: ContentStore, batch: int = 2000) -> Iterator[dict]:
    """Every visible topic and reply, streamed for a rebuild in batches (the order does not affect ranking)."""
    openings = dict(session.execute(first_post_ids()).all())
    topics = {t.id: t for t in session.scalars(select(Topic).where(Topic.status == PUBLISHED))}
    for topic in topics.values():
        if topic.id not in openings:  # a topic without posts: title only
            yield topic_document(store, topic, None)
    last_id = None
    while True:
        newer_first = select(Post).order_by(Post.id.desc()).limit(batch)
        if last_id is not None:
            newer_first = newer_first.where(Post.id < last_id)
        posts = session.scalars(newer_first).all()
        if not posts:
            break
        for post in posts:
            topic = topics.get(post.topic_id)
            if topic is None:
                continue
            if openings.get(post.topic_id) == post.id:
                yield topic_document(store, topic, post)
            elif post.status == PUBLISHED:
                yield post_document(post)
        last_id = posts[-1].id
        session.expunge_all()


@dataclass
class Visible:
    """Database rows behind a page of hits, already checked for visibility."""

    topics: dict[int, Topic]
    posts: dict[int, Post]
    openings: dict[int, Post]


def load_visible(session: Session, topic_ids: set[int], post_ids: set[int]) -> Visible:
    """Load hit rows in two queries and keep only what a reader may see now."""
    posts: dict[int, Post] = {}
    if post_ids:
        posts = {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(post_ids)).options(joinedload(Post.topic))) if p.is_public}
        topic_ids.update(p.topic_id for p in posts.values())
    topics: dict[int, Topic] = {}
    openings: dict[int, Post] = {}
    if topic_ids:
        topics = {t.id: t for t in session.scalars(select(Topic).where(Topic.id.in_(topic_ids))) if t.status == PUBLISHED}
        first_ids = dict(session.execute(first_post_ids(list(topics))).all()) if topics else {}
        if first_ids:
            for post in session.scalars(select(Post).where(Post.id.in_(list(first_ids.values())))):
                if post.is_public:
                    openings[post.topic_id] = post
    return Visible(topics=topics, posts=posts, openings=openings)
