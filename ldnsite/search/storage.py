"""Where the index lives on disk, and how a rebuilt index replaces the live one atomically.

Layout of INDEX_DIR:

    current          one line: the name of the live generation directory
    gen-<stamp>/     a complete Whoosh index, plus state.json (see indexer.py)
    rebuild.lock     held while a rebuild runs, so two rebuilds never race
    health           the last failed index commit, if any (see record_failure)

Why a pointer file: a rebuild writes a whole new index beside the live one and
then replaces `current` with os.replace(), which is atomic on POSIX. Readers
either see the old generation or the new one, never a half-built index, and
every process notices the change on its next search (see service.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3PerDocReader
from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex

from ldnsite.search.schema import build_schema

POINTER = "current"


class _ByteLengths:
    """A segment's one-byte field lengths, read in one go: `lengths[docnum]` as Whoosh's column reader gives it."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __getitem__(self, docnum: int) -> int:
        return self.data[docnum] if docnum < len(self.data) else 0  # Whoosh leaves trailing zero lengths unwritten


def _cached_length_reader(self: W3PerDocReader, fieldname: str, column):
    """W3PerDocReader._cached_reader, remembering a missing column too, and holding lengths as bytes.

    Why: when a segment is written, Whoosh asks for the field length of every
    posting. For a field without lengths (the id fields) the original looked
    for the column file again each time, one stat() per posting; for the
    others it read one byte through three layers of file objects. Together
    that was about a sixth of a rebuild. A segment's columns never change once
    written. Whoosh gets no more releases, so the fix lives here, beside the
    storage.
    """
    try:
        return self._readers[fieldname]
    except KeyError:
        pass
    reader = None
    if self.has_column(fieldname):
        if column is LENGTHS_COLUMN:
            colfile, offset, length = self._get_column_file(fieldname)
            try:
                reader = _ByteLengths(bytes(colfile.get(offset, length)))
            finally:
                colfile.close()
        else:
            reader = self.column_reader(fieldname, column)
    self._readers[fieldname] = reader
    return reader


W3PerDocReader._cached_reader = _cached_length_reader
STATE = "state.json"
INDEX_NAME = "MAIN"


@dataclass(frozen=True)
class Generation:
    """One complete index directory."""

    path: Path
    mmap: bool

    @property
    def name(self) -> str:
        return self.path.name

    def storage(self) -> FileStorage:
        # mmap or plain reads: measured in bench/bench_search.py (SEARCH_INDEX_MMAP).
        return FileStorage(str(self.path), supports_mmap=self.mmap)

    def open(self) -> FileIndex:
        return self.storage().open_index(INDEX_NAME)

    def read_state(self) -> dict:
        try:
            return json.loads((self.path / STATE).read_text())
        except (OSError, ValueError):
            return {}

    def write_state(self, state: dict) -> None:
        """Replace state.json atomically; callers hold the index write lock."""
        tmp = self.path / f".{STATE}.{uuid.uuid4().hex}"
        try:
            tmp.write_text(json.dumps(state, sort_keys=True))
            os.replace(tmp, self.path / STATE)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full disk must not keep the half-written copy
            raise

    def remove_partial_files(self) -> None:
        """Delete what a failed commit left: segment files no TOC names, older TOCs, the writer's temp folder.

        Why: Whoosh cleans up only after a commit that succeeds. A commit that
        failed half-way (a full disk) leaves its files behind, and every retry
        would add more, filling whatever space is freed. The caller holds the
        sync lock and the writer has been closed, so nothing else is writing here.
        """
        from whoosh.index import TOC, clean_files

        storage = self.storage()
        generation = TOC._latest_generation(storage, INDEX_NAME)
        segments = TOC.read(storage, INDEX_NAME, generation).segments if generation >= 0 else []
        clean_files(storage, INDEX_NAME, generation, segments)
        for leftover in self.path.glob(f"{INDEX_NAME}.tmp"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.path.glob(f".{STATE}.*"):
            leftover.unlink(missing_ok=True)

    def verify(self) -> tuple[int | None, list[str]]:
        """(documents, problems): open the TOC and every segment and read each one's last stored document.

        Why each segment: a truncated segment or TOC is only noticed when a
        search opens it, so `index status` and `ensure` must open them all.
        """
        try:
            ix = self.open()
            with ix.reader() as reader:
                documents = reader.doc_count()
                for leaf, _base in reader.leaf_readers():
                    if leaf.doc_count_all():
                        leaf.stored_fields(leaf.doc_count_all() - 1)
        except Exception as exc:  # noqa: BLE001 - any failure to read means a damaged index
            return None, [f"the index cannot be read ({type(exc).__name__}: {exc})"]
        return documents, []


class IndexStore:
    """The INDEX_DIR: finds the live generation, creates new ones, swaps them in."""

    def __init__(self, root: str | Path, mmap: bool = False) -> None:
        self.root = Path(root)
        self.mmap = mmap

    def pointer_signature(self) -> tuple[int, int] | None:
        """Cheap change check for the pointer (one stat), used before every search."""
        try:
            st = (self.root / POINTER).stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_ino)

    def live(self) -> Generation | None:
        try:
            name = (self.root / POINTER).read_text().strip()
        except FileNotFoundError:
            return None
        if not name or "/" in name or not (self.root / name).is_dir():
            return None
        return Generation(self.root / name, self.mmap)

    def new_generation(self) -> Generation:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        path.mkdir()
        gen = Generation(path, self.mmap)
        gen.storage().create_index(build_schema(), indexname=INDEX_NAME)
        return gen

    def swap(self, gen: Generation) -> Generation | None:
        """Point `current` at gen atomically; returns the generation it replaced."""
        previous = self.live()
        tmp = self.root / f".{POINTER}.{uuid.uuid4().hex}"
        tmp.write_text(gen.name + "\n")
        os.replace(tmp, self.root / POINTER)
        self.prune(keep={gen.name, previous.name if previous else ""})
        return previous

    def prune(self, keep: set[str]) -> None:
        """Delete old generations. The one just replaced is kept so searches already running on it finish."""
        for child in self.root.glob("gen-*"):
            if child.is_dir() and child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)

    def discard(self, gen: Generation) -> None:
        shutil.rmtree(gen.path, ignore_errors=True)

    def unfinished_generations(self) -> list[Path]:
        """gen-* folders that are not live and were never completed (no state.json): a killed rebuild's."""
        live = self.live()
        return sorted(
            p for p in self.root.glob("gen-*") if p.is_dir() and (live is None or p.name != live.name) and not (p / STATE).exists()
        )

    def remove_unfinished(self) -> list[str]:
        """Delete a killed rebuild's leftovers. Only under rebuild_lock: a running rebuild's folder looks the same."""
        removed = []
        for path in self.unfinished_generations():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        return removed

    # ---- the last failed commit, for `index status` -----------------------------------------

    HEALTH_SIZE = 1024

    def record_failure(self, message: str | None) -> None:
        """Remember (or, with None, forget) the last failed index commit; best effort.

        Why a fixed-size file overwritten in place: the commonest failure is a
        full disk, where creating or growing a file fails too, but rewriting
        blocks the file already owns does not.
        """
        path = self.root / "health"
        text = json.dumps({"error": message, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())} if message else {})
        data = text.encode()[: self.HEALTH_SIZE].ljust(self.HEALTH_SIZE)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                os.pwrite(fd, data, 0)
            finally:
                os.close(fd)
        except OSError:
            pass

    def last_failure(self) -> dict:
        try:
            return json.loads((self.root / "health").read_bytes().strip() or b"{}")
        except (OSError, ValueError):
            return {}

    @contextlib.contextmanager
    def rebuild_lock(self, wait: bool = True) -> Iterator[bool]:
        """One rebuild at a time across processes; a second one waits for the first.

        With wait=False it yields False at once if another rebuild holds the lock.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "rebuild.lock", "a+") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
