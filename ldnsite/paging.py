"""Long lists shown a page at a time (forum topics and replies, the moderation queue, members, the log).

Why one module: the page size, the page count of an empty list and what a
bad `?page=` gets (400 with a message, not a guess) must be the same on
every list. Search clamps its own page number instead (search.routes): a
results page is a query, not a list one walks through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import abort, request

PER_PAGE = 20
BAD_PAGE = "The page number must be a whole number, 1 or more."


@dataclass
class Paginated:
    """One page of a list: its items, its number, how many pages there are and how many items in all."""

    items: list
    page: int
    pages: int
    total: int


def page_count(total: int, per_page: int = PER_PAGE) -> int:
    """At least one page, so an empty list still has a page 1 that says it is empty."""
    return max(1, math.ceil(total / per_page))


def offset(page: int, per_page: int = PER_PAGE) -> int:
    return (page - 1) * per_page


def page_arg(default: int | None = 1) -> int | None:
    """The `page` query argument: `default` when absent, 400 unless a whole number of 1 or more."""
    raw = request.args.get("page")
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        abort(400, BAD_PAGE)
    return int(raw)
