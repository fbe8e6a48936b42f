"""Reads what a reader typed into a list of clauses, leniently and in linear time.

Why not Whoosh's QueryParser: on hostile input it raises (IndexError,
AssertionError, `a ANDNOT ANDNOT b`, deep brackets) and its parse time grows
with the square of the length. Readers type words, "quoted phrases",
prefixes with *, -exclusions, OR and AND; this small grammar accepts exactly
that and treats every other character as a space, so no input can fail.
Field syntax (`title:ldn`) keeps the value and drops the field name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_QUERY_CHARS = 200
MAX_CLAUSES = 12
FIELD_NAMES = {"title", "summary", "body", "keywords", "conditions", "kind", "url", "date", "content", "text"}
TOKEN = re.compile(r'"[^"]*"?|[^\s"]+')
STRIP = re.compile(r"[()\[\]{}<>^~!+=&|\\,;]+")


@dataclass
class Clause:
    text: str  # the words as typed (without operators), for "Did you mean" and synonyms
    quoted: bool = False
    prefix: bool = False
    negated: bool = False
    or_next: bool = False  # joined to the following clause by OR


@dataclass
class ParsedQuery:
    clauses: list[Clause]
    cleaned: str  # the query after capping and removing control characters
    truncated: bool


def clean(raw: str) -> tuple[str, bool]:
    """Normalise, drop control and format characters, cap the length."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in text)
    text = re.sub(r" {2,}", " ", text).strip()
    truncated = len(text) > MAX_QUERY_CHARS
    if truncated:
        text = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0] or text[:MAX_QUERY_CHARS]
    return text, truncated


def parse(raw: str) -> ParsedQuery:
    text, truncated = clean(raw)
    clauses: list[Clause] = []
    negate_next = False
    for match in TOKEN.finditer(text):
        token = match.group(0)
        upper = token.upper()
        if upper in ("AND", "&&", "ANDMAYBE"):
            continue
        if upper in ("OR", "||"):
            if clauses:
                clauses[-1].or_next = True
            continue
        if upper in ("NOT", "ANDNOT"):
            negate_next = True
            continue
        negated, negate_next = negate_next, False
        if token.startswith('"'):
            words = token.strip('"').strip()
            if words:
                clauses.append(Clause(words, quoted=True, negated=negated))
            continue
        if token.startswith("-") and len(token) > 1:
            negated, token = True, token.lstrip("-")
        name, colon, value = token.partition(":")
        if colon and name.lower() in FIELD_NAMES:
            token = value
        prefix = token.endswith("*")
        token = STRIP.sub(" ", token.replace("*", " ").replace(":", " ")).strip()
        if not token or not any(ch.isalnum() for ch in token):
            continue
        clauses.append(Clause(token, prefix=prefix and " " not in token, negated=negated))
        if len(clauses) >= MAX_CLAUSES:
            break
    if clauses and all(c.negated for c in clauses):
        for c in clauses:  # "-ldn" alone excludes everything: read it as a search for the word
            c.negated = False
    if clauses:
        clauses[-1].or_next = False
    return ParsedQuery(clauses, text, truncated)
