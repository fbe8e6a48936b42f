"""Query-time synonyms from site/synonyms.txt, kept beside the content it describes.

Format: one group a line, terms separated by commas, the first term the
canonical one; `#` starts a comment. Example:

    low-dose naltrexone, ldn, low dose naltrexone
    pregabalin, lyrica

Why at query time and from a file: editors add brand names and abbreviations
as readers use them, without a code change or a rebuild of the index.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

Words = tuple[str, ...]


class Synonyms:
    """Groups of equivalent terms, each term as a tuple of normalised words."""

    def __init__(self, groups: list[list[Words]]) -> None:
        self.groups = groups
        self._by_words: dict[Words, int] = {}
        for number, group in enumerate(groups):
            for words in group:
                self._by_words.setdefault(words, number)
        self.longest = max((len(w) for w in self._by_words), default=0)

    def group_of(self, words: Words) -> list[Words] | None:
        number = self._by_words.get(words)
        return None if number is None else self.groups[number]

    def __len__(self) -> int:
        return len(self.groups)


def parse(text: str, normalise: Callable[[str], Words]) -> Synonyms:
    groups: list[list[Words]] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        group: list[Words] = []
        for term in line.split(","):
            words = normalise(term)
            if words and words not in group:
                group.append(words)
        if len(group) > 1:
            groups.append(group)
    return Synonyms(groups)


class SynonymFile:
    """The synonyms file, re-read when it changes (checked at most every reload_interval seconds)."""

    def __init__(self, path: Path, normalise: Callable[[str], Words], reload_interval: float = 1.0) -> None:
        self.path = path
        self.reload_interval = reload_interval
        self.normalise = normalise
        self._lock = threading.Lock()
        self._sig: tuple | None = None
        self._value = Synonyms([])
        self._checked = -1.0

    def get(self) -> Synonyms:
        now = time.monotonic()
        if now - self._checked < self.reload_interval:
            return self._value
        with self._lock:
            self._checked = now
            try:
                st = self.path.stat()
                sig: tuple | None = (st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                sig = None
            if sig != self._sig:
                text = self.path.read_text(encoding="utf-8") if sig else ""
                self._value, self._sig = parse(text, self.normalise), sig
        return self._value
