"""Where the index lives on disk, and how a rebuilt index replaces the live one atomically.

Layout of INDEX_DIR:

    current          one line: the name of the live generation directory
    gen-<stamp>/     a complete Whoosh index, plus state.json (see indexer.py)
    rebuild.lock     held while a rebuild runs, so two rebuilds never race

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

from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex

from ldnsite.search.schema import build_schema

POINTER = "current"
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
        tmp.write_text(json.dumps(state, sort_keys=True))
        os.replace(tmp, self.path / STATE)


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

    @contextlib.contextmanager
    def rebuild_lock(self) -> Iterator[None]:
        """One rebuild at a time across processes; a second one waits for the first."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "rebuild.lock", "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
