"""How small segments merge: Whoosh's own policy, but keeping the newest documents first.

Why the order matters: a search on very common words stops after a budget of
matches (collect.py) and visits segments newest first, each from its first
document on. A rebuild writes forum documents newest first. Whoosh's
MERGE_SMALL picks the right segments to merge but copies them in order of
size, and lists the segments it keeps in order of size too, which would put
old posts ahead of new ones. This policy keeps its choice and changes only
the order: the commit's own documents (written newest first, see
indexer.Changes) come first, then the merged segments from newest to oldest,
and the kept segments stay in the order they were written.
"""

from __future__ import annotations

from whoosh.reading import SegmentReader
from whoosh.writing import MERGE_SMALL


class _Chooser:
    """Stands in for the writer while MERGE_SMALL decides: it notes the segments instead of copying them."""

    def __init__(self, writer) -> None:
        self.storage = writer.storage
        self.schema = writer.schema
        self.chosen: list = []

    def add_reader(self, reader) -> None:
        self.chosen.append(reader.segment())


def merge_small_newest_first(writer, segments: list) -> list:
    chooser = _Chooser(writer)
    MERGE_SMALL(chooser, segments)
    chosen = {id(seg) for seg in chooser.chosen}
    for seg in reversed(segments):  # segments are listed oldest first
        if id(seg) in chosen:
            reader = SegmentReader(writer.storage, writer.schema, seg)
            writer.add_reader(reader)
            reader.close()
    return [seg for seg in segments if id(seg) not in chosen]
