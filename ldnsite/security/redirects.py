"""Where a form may send the reader afterwards: a `next` path on this site, never another host."""

from __future__ import annotations


def safe_next(target: str | None) -> str | None:
    """A path on this site, or None.

    Why so strict: "//evil.example" and "/\\evil.example" are read by browsers
    as other hosts, and browsers drop tabs and newlines from URLs, so
    "/\\t/evil.example" would become "//evil.example". Only a plain
    absolute path passes. Sign-in and the moderation actions both use this
    one rule.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ch.isspace() or not ch.isprintable() or ch == "\\" for ch in target):
        return None
    return target
