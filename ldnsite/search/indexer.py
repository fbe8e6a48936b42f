"""Applies the search outbox to this node's index, and rebuilds the index from scratch.

How the outbox is consumed (and why rows are not deleted when applied):
every node keeps its own local index, and each must apply every outbox row.
So a node never deletes a row because it applied it. Instead each index keeps
its own progress in state.json beside it:

* `safe`: every outbox row with an id at or below this one is applied;
* `applied`: ids above `safe` that are applied too.

Ids come from a sequence, and on PostgreSQL two transactions can commit out
of id order, so a row with a smaller id can appear after a larger one was
applied. `safe` therefore only moves past a row once that row is older than
SEARCH_OUTBOX_GRACE_SECONDS; until then newer ids are listed in `applied`
and the gap is looked at again on every sync. Rows are pruned by age
(SEARCH_OUTBOX_RETENTION_SECONDS); a node that was away longer than that
rebuilds (`flask index ensure` does it). Applying a row twice is harmless:
the indexer re-reads the current state of the document from the database.

Writers: one sync at a time per index (a lock file, waited for up to
SEARCH_WRITER_TIMEOUT seconds). A sync that cannot get the lock leaves its
rows in the outbox, and the holder of the lock reads the outbox again before
it lets go, so no update is lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from whoosh.writing import SegmentWriter

from ldnsite.content.store import ContentStore
from ldnsite.db import utcnow
from ldnsite.forum.models import PUBLISHED, Post, Topic, first_post_ids, public_posts
from ldnsite.search.documents import forum_documents, page_document, post_document, topic_document
from ldnsite.search.models import SearchOutbox
from ldnsite.search.schema import build_schema
from ldnsite.search.storage import INDEX_NAME, Generation, IndexStore
from ldnsite.search.synonyms import load as load_synonyms

log = logging.getLogger(__name__)

# Bump when the schema or what goes into a document changes: `index ensure` then rebuilds.
SCHEMA_VERSION = 4
BATCH = 500


class IndexBusy(RuntimeError):
    """Another process kept the index lock past the timeout; the outbox keeps the rows."""


class Changes:
    """The net effect of a batch of outbox rows, one entry per document, written in one commit.

    Why collect first: Whoosh's update_document() only replaces documents in
    committed segments, so writing the same document twice in one writer
    would leave two copies.
    """

    def __init__(self) -> None:
        self.docs: dict[str, dict | None] = {}  # key -> document, or None to delete
        self.dropped_topics: set[int] = set()

    def put(self, key: str, doc: dict | None) -> None:
        self.docs[key] = doc

    def drop_topic(self, topic_id: int) -> None:
        self.dropped_topics.add(topic_id)
        self.docs[f"topic:{topic_id}"] = None

    def write(self, writer: SegmentWriter) -> None:
        try:
            for topic_id in self.dropped_topics:
                writer.delete_by_term("topic", str(topic_id))  # the topic and all its replies
            for key, doc in self.docs.items():
                if doc is None:
                    writer.delete_by_term("key", key)
                else:
                    writer.update_document(**doc)
            writer.commit()
        except BaseException:
            abandon(writer)
            raise


def abandon(writer: SegmentWriter) -> None:
    """Close a writer whose work failed, so its lock is free; a commit that failed half-way is not closed by Whoosh."""
    if writer.is_closed:
        return
    try:
        writer.cancel()
    except Exception:  # noqa: BLE001 - e.g. the disk is still full: at least let go of the lock
        if writer.writelock:
            writer.writelock.release()
        writer.is_closed = True


class Indexer:
    def __init__(self, app: Flask, store: IndexStore) -> None:
        self.store = store
        self.content: ContentStore = app.extensions["content"]
        self.content_dir = Path(app.config["CONTENT_DIR"])
        self.sessionmaker = app.extensions["db_sessionmaker"]
        self.timeout = float(app.config["SEARCH_WRITER_TIMEOUT"])
        self.grace = float(app.config["SEARCH_OUTBOX_GRACE_SECONDS"])
        self.retention = float(app.config["SEARCH_OUTBOX_RETENTION_SECONDS"])
        self.sync_interval = float(app.config["SEARCH_SYNC_INTERVAL"])
        self.rebuild_mb = int(app.config["SEARCH_REBUILD_MEMORY_MB"])
        self._last_prune = 0.0
        self._prune_lock = threading.Lock()
        self._last_sync_check = 0.0

    # ---- locks ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _sync_lock(self, gen: Generation, timeout: float | None = None) -> Iterator[None]:
        """flock on a file in the generation: excludes other threads and processes alike."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with open(gen.path / "SYNC.lock", "a+") as fh:
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexBusy(f"index {gen.name} is busy") from None
                    time.sleep(0.02)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # ---- applying the outbox -------------------------------------------------------------

    def sync(self, pages: bool = False, build: bool = True) -> int:
        """Apply outbox rows this index has not applied; returns how many. Builds a missing index unless build=False."""
        gen = self.store.live()
        if gen is None:
            if build:
                self.rebuild()
            return 0
        applied = self._sync_generation(gen, pages=pages)
        self._maybe_prune(gen)
        return applied

    def maybe_sync(self) -> None:
        """Before a search, at most every SEARCH_SYNC_INTERVAL seconds: apply rows other nodes committed.

        Why: a commit indexes only on the node that made it. With several
        nodes, each picks up the others' changes here (one small SELECT when
        there is nothing new), without a separate timer. It never waits for
        the lock: if another process is syncing this index, that one will do.
        """
        now = time.monotonic()
        if self.sync_interval <= 0 or now - self._last_sync_check < self.sync_interval:
            return
        self._last_sync_check = now
        gen = self.store.live()
        if gen is None:
            return
        try:
            self._sync_generation(gen, lock_timeout=0)
        except IndexBusy:
            pass
        except Exception:  # a search must not fail because the index could not be updated
            log.exception("search: sync before search failed; rows stay in the outbox")

    def _sync_generation(self, gen: Generation, pages: bool = False, lock_timeout: float | None = None) -> int:
        total = 0
        with self._sync_lock(gen, lock_timeout):
            ix = gen.open()
            if pages:
                self._reindex_pages(gen, ix)
            while True:
                with self.sessionmaker() as session:
                    state = gen.read_state()
                    safe = int(state.get("safe", 0))
                    applied = set(state.get("applied", []))
                    limit = BATCH + len(applied)
                    rows = session.execute(
                        select(SearchOutbox.id, SearchOutbox.doc_kind, SearchOutbox.doc_id, SearchOutbox.created_at)
                        .where(SearchOutbox.id > safe)
                        .order_by(SearchOutbox.id)
                        .limit(limit)
                    ).all()
                    new = [r for r in rows if r.id not in applied]
                    with self._recording_failures(gen):
                        if new:
                            changes = Changes()
                            for kind, ref in dict.fromkeys((r.doc_kind, r.doc_id) for r in new):
                                self._apply(changes, session, kind, ref)
                            changes.write(ix.writer(timeout=self.timeout, delay=0.02))
                            applied.update(r.id for r in new)
                            total += len(new)
                        safe = self._advance(safe, rows, applied)
                        state.update(safe=safe, applied=sorted(i for i in applied if i > safe), synced_at=utcnow().isoformat())
                        gen.write_state(state)
                if len(rows) < limit:
                    return total

    def refresh(self, refs: list[tuple[str, str]]) -> None:
        """Re-read these documents from the database now (a search found rows hidden since they were indexed).

        Why: the outbox normally removes a hidden post within moments; if a
        change reached the database without its outbox row, the search that
        notices it repairs the index at once, so counts and pages stay true.
        Never waits for the lock: whoever holds it is syncing anyway.
        """
        gen = self.store.live()
        if gen is None or not refs:
            return
        try:
            with self._sync_lock(gen, timeout=0), self.sessionmaker() as session:
                changes = Changes()
                for kind, ref in dict.fromkeys(refs):
                    self._apply(changes, session, kind, ref)
                changes.write(gen.open().writer(timeout=self.timeout, delay=0.02))
        except IndexBusy:
            pass

    @contextlib.contextmanager
    def _recording_failures(self, gen: Generation) -> Iterator[None]:
        """A failed index commit removes its partial files and is logged and kept for `index status`.

        The rows it could not apply stay waiting in the outbox (state.json is
        only written after the commit), so the next sync applies them as soon
        as the cause (say, a full disk) is gone; that success clears the record.
        """
        try:
            yield
        except IndexBusy:
            raise
        except Exception as exc:
            gen.remove_partial_files()
            message = f"{type(exc).__name__}: {exc}"
            self.store.record_failure(message)
            log.error("search: index commit failed, partial files removed, rows stay in the outbox: %s", message)
            raise
        if self.store.last_failure():
            self.store.record_failure(None)
            log.warning("search: index commits work again")

    def _advance(self, safe: int, rows: list, applied: set[int]) -> int:
        """Move `safe` over applied rows old enough that no earlier id can still be uncommitted."""
        cutoff = utcnow() - timedelta(seconds=self.grace)
        for row in rows:  # ascending ids
            if row.id not in applied or row.created_at > cutoff:
                break
            safe = row.id
        return safe

    def _apply(self, changes: Changes, session: Session, kind: str, ref: str) -> None:
        if kind == "page":
            page = self.content.get(ref)
            changes.put(f"page:{ref}", page_document(self.content, page) if page is not None else None)
            return
        try:
            number = int(ref)
        except ValueError:
            log.warning("search outbox: ignoring %s id %r", kind, ref)
            return
        if kind == "topic":
            self._apply_topic(changes, session, number, replies=True)
        elif kind == "post":
            post = session.get(Post, number)
            if post is None:
                changes.put(f"post:{number}", None)
                return
            if post.is_first:
                changes.put(f"post:{number}", None)
                self._apply_topic(changes, session, post.topic_id, replies=False)
            elif post.is_public:
                changes.put(f"post:{number}", post_document(post))
            else:
                changes.put(f"post:{number}", None)

    def _apply_topic(self, changes: Changes, session: Session, topic_id: int, replies: bool) -> None:
        topic = session.get(Topic, topic_id)
        if topic is None or topic.status != PUBLISHED:
            changes.drop_topic(topic_id)
            return
        opening = topic.first_post
        changes.put(f"topic:{topic_id}", topic_document(self.content, topic, opening))
        if replies:
            for post in session.scalars(select(Post).where(Post.topic_id == topic_id)):
                if opening is not None and post.id == opening.id:
                    continue
                changes.put(f"post:{post.id}", post_document(post) if post.status == PUBLISHED else None)

    def _reindex_pages(self, gen: Generation, ix) -> None:
        """Replace every page document (the caller holds the sync lock)."""
        signature = self.content_signature()
        self.content.refresh(force=True)
        with self._recording_failures(gen):
            writer = ix.writer(timeout=self.timeout, delay=0.02)
            try:
                writer.delete_by_term("kind", "page")
                for page in self.content.all():
                    writer.add_document(**page_document(self.content, page))
                writer.commit()
            except BaseException:
                abandon(writer)
                raise
            state = gen.read_state()
            state["content_signature"] = signature
            gen.write_state(state)

    def _maybe_prune(self, gen: Generation) -> int:
        """Delete outbox rows older than the retention period that this index has applied."""
        now = time.monotonic()
        if now - self._last_prune < 60 or not self._prune_lock.acquire(blocking=False):
            return 0
        try:
            self._last_prune = now
            return self.prune_outbox(gen)
        finally:
            self._prune_lock.release()

    def prune_outbox(self, gen: Generation | None = None) -> int:
        gen = gen or self.store.live()
        if gen is None:
            return 0
        safe = int(gen.read_state().get("safe", 0))
        cutoff = utcnow() - timedelta(seconds=self.retention)
        with self.sessionmaker() as session:
            result = session.execute(delete(SearchOutbox).where(SearchOutbox.id <= safe, SearchOutbox.created_at < cutoff))
            session.commit()
            return result.rowcount or 0

    # ---- full builds ---------------------------------------------------------------------

    def synonyms(self) -> tuple[dict, str]:
        """The synonym table for a new index, and the hash of site/synonyms.txt it came from."""
        return load_synonyms(self.content_dir / "synonyms.txt")

    def content_signature(self) -> str:
        """A hash of every page file: `index ensure` reindexes pages when it changes."""
        digest = hashlib.sha256(f"schema-{SCHEMA_VERSION}".encode())
        for path in sorted(self.content_dir.glob("*.md")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def rebuild(self, wait: bool = True) -> dict | None:
        """Build a complete new index beside the live one, catch it up with the outbox, swap it in.

        wait=False returns None at once if another process is rebuilding (a
        background repair must never start a second build).
        """
        with self.store.rebuild_lock(wait) as held:
            if not held:
                return None
            removed = self.store.remove_unfinished()  # a killed rebuild's folders; no other build is running
            if removed:
                log.warning("search: removed unfinished index folders %s", ", ".join(removed))
            started = time.monotonic()
            signature = self.content_signature()
            self.content.refresh(force=True)
            with self.sessionmaker() as session:
                cutoff = utcnow() - timedelta(seconds=self.grace)
                # Rows newer than this are applied again after the build: harmless, and nothing is missed.
                safe = session.scalar(select(func.max(SearchOutbox.id)).where(SearchOutbox.created_at < cutoff)) or 0
                gen = self.store.new_generation()
                table, synonyms_hash = self.synonyms()
                # The synonym table is part of the schema (schema.TextAnalyzer): recreate the empty index with it.
                gen.storage().create_index(build_schema(table), indexname=INDEX_NAME)
                try:
                    # The bulk writer reads back field lengths while it writes postings: memory-mapped
                    # that is about a third faster (bench). Searches use the configured storage.
                    ix = Generation(gen.path, mmap=True).open()
                    # One writer process, one segment (forking writers from a web worker's repair thread is not
                    # safe). Postings past rebuild_mb are sorted into runs on disk and merged back: at 128 MB that
                    # spilling took a third of a 100,000-post build (bench/README.md).
                    writer = ix.writer(limitmb=self.rebuild_mb)
                    count = 0
                    try:
                        for page in self.content.all():
                            writer.add_document(**page_document(self.content, page))
                            count += 1
                        for doc in forum_documents(session, self.content):
                            writer.add_document(**doc)
                            count += 1
                    except BaseException:
                        writer.cancel()
                        raise
                    writer.commit()
                    gen.write_state(
                        {
                            "safe": safe,
                            "applied": [],
                            "content_signature": signature,
                            "schema": SCHEMA_VERSION,
                            "built_at": utcnow().isoformat(),
                            "synced_at": utcnow().isoformat(),
                            "built_docs": count,
                            "synonyms": synonyms_hash,
                        }
                    )
                    self._sync_generation(gen)
                except BaseException as exc:
                    self.store.discard(gen)
                    if isinstance(exc, Exception):
                        self.store.record_failure(f"rebuild failed: {type(exc).__name__}: {exc}")
                    raise
            previous = self.store.swap(gen)
            self.store.record_failure(None)  # also sets aside the file's space for a later failure on a full disk
            self._sync_generation(gen)  # rows committed while the pointer moved
            seconds = time.monotonic() - started
            return {"generation": gen.name, "replaced": previous.name if previous else None, "documents": count, "seconds": seconds}

    def ensure(self) -> str:
        """Build the index if missing or outdated, reindex pages if site/ changed, then sync."""
        gen = self.store.live()
        if gen is None:
            self.rebuild()
            return "built: there was no index"
        state = gen.read_state()
        if state.get("schema") != SCHEMA_VERSION:
            self.rebuild()
            return "rebuilt: the index was made by another version of the schema"
        if state.get("synonyms") != self.synonyms()[1]:
            self.rebuild()
            return "rebuilt: site/synonyms.txt changed"
        synced = state.get("synced_at")
        if synced and synced < (utcnow() - timedelta(seconds=self.retention)).isoformat():
            self.rebuild()
            return "rebuilt: the last sync is older than the outbox retention"
        _documents, problems = gen.verify()
        if problems:
            self.rebuild()
            return f"rebuilt: {problems[0]}"
        with self.store.rebuild_lock(wait=False) as held:
            removed = self.store.remove_unfinished() if held else []
        changed = state.get("content_signature") != self.content_signature()
        applied = self.sync(pages=changed)
        mismatch = self._count_mismatch(gen)
        if mismatch:
            self.rebuild()
            return f"rebuilt: {mismatch}"
        return (
            ("pages reindexed (site/ changed); " if changed else "up to date; ")
            + f"{applied} outbox rows applied"
            + (f"; removed unfinished {', '.join(removed)}" if removed else "")
        )

    def expected_documents(self, session: Session) -> int:
        """How many documents a complete index holds: pages, visible topics, visible replies."""
        openings = first_post_ids().subquery()
        topics = session.scalar(select(func.count(Topic.id)).where(Topic.status == PUBLISHED)) or 0
        replies = (
            session.scalar(
                select(func.count(Post.id))
                .join(Topic, Topic.id == Post.topic_id)
                .where(public_posts(), Post.id.not_in(select(openings.c.post_id)))
            )
            or 0
        )
        return len(list(self.content.all())) + topics + replies

    def _pending(self, gen: Generation, session: Session) -> int:
        state = gen.read_state()
        safe, applied = int(state.get("safe", 0)), set(state.get("applied", []))
        return sum(1 for i in session.scalars(select(SearchOutbox.id).where(SearchOutbox.id > safe)) if i not in applied)

    def _count_mismatch(self, gen: Generation) -> str | None:
        """A complete index (nothing waiting) holds exactly the database's documents; otherwise say how it differs."""
        documents, problems = gen.verify()
        if problems:
            return problems[0]
        with self.sessionmaker() as session:
            if self._pending(gen, session):
                return None  # behind, not damaged: the next sync catches up
            expected = self.expected_documents(session)
        if documents != expected:
            return f"the index holds {documents} documents, the database {expected}"
        return None

    def status(self) -> dict:
        gen = self.store.live()
        if gen is None:
            unfinished = [p.name for p in self.store.unfinished_generations()]
            return {
                "index": "missing",
                "health": "there is no index",
                "unfinished_generations": ", ".join(unfinished) if unfinished else "none",
            }
        state = gen.read_state()
        docs, problems = gen.verify()
        segments = len(gen.open()._segments()) if not problems else None
        with self.sessionmaker() as session:
            safe = int(state.get("safe", 0))
            pending = self._pending(gen, session)
            rows = session.scalar(select(func.count(SearchOutbox.id))) or 0
            expected = self.expected_documents(session)
        if not problems and not pending and docs != expected:
            problems.append(f"the index holds {docs} documents, the database {expected}")
        failure = self.store.last_failure()
        unfinished = [p.name for p in self.store.unfinished_generations()]
        return {
            "index": str(gen.path),
            "health": "; ".join(problems) if problems else "ok",
            "last_commit_failure": f"{failure['at']} {failure['error']}" if failure.get("error") else "none",
            "unfinished_generations": ", ".join(unfinished) if unfinished else "none",
            "documents": docs,
            "documents_expected": expected,
            "segments": segments,
            "built_at": state.get("built_at"),
            "synced_at": state.get("synced_at"),
            "outbox_rows": rows,
            "outbox_pending": pending,
            "high_water_mark": safe,
            "pages_current": state.get("content_signature") == self.content_signature(),
        }
