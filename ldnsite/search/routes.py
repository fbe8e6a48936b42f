"""/search and /opensearch.xml. The URL and its parameters are a contract (design.md)."""

from __future__ import annotations

import json
import logging

from flask import Response, current_app, render_template, request, url_for

from ldnsite.content import store
from ldnsite.db import get_session
from ldnsite.search import bp, repair, service
from ldnsite.search.querylang import clean
from ldnsite.search.repair import IndexUnavailable
from ldnsite.search.results import hydrate
from ldnsite.search.service import KINDS, MAX_PAGE, SORTS

log = logging.getLogger(__name__)

KIND_LABELS = {"all": "Everything", "pages": "Information pages", "forum": "Forum"}
SORT_LABELS = {"relevance": "Best match", "date": "Newest first"}
USEFUL_PAGES = ("low-dose-naltrexone", "fibromyalgia", "me-cfs")


def _page_number(value: str | None) -> int:
    """Clamp rather than refuse: a hand-edited page number still gets a sensible page."""
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return max(1, min(number, MAX_PAGE))


@bp.get("/search")
def search():
    raw = request.args.get("q", "")
    query, _ = clean(raw)
    kind = request.args.get("kind", "all") or "all"
    sort = request.args.get("sort", "relevance") or "relevance"
    as_json = request.args.get("format") == "json"
    page = _page_number(request.args.get("page"))

    error = None
    if kind not in KINDS:
        error = "Choose where to search: everything, information pages or the forum."
        kind = "all"
    elif sort not in SORTS:
        error = "Choose how to sort: best match or newest first."
        sort = "relevance"
    if error:
        if as_json:
            return _json({"error": error}, 400)
        return _render(query=query, kind=kind, sort=sort, error=error), 400

    outcome = items = None
    if query:
        current_app.extensions["search_indexer"].maybe_sync()
        try:
            outcome = service().search(raw, kind=kind, sort=sort, page=page)
        except IndexUnavailable as exc:
            return _index_unavailable(str(exc), as_json)
        except Exception:
            problems = _index_problems()
            if not problems:
                raise
            log.error("search: the index is damaged: %s", problems[0])
            return _index_unavailable(problems[0], as_json)
        items = hydrate(outcome.hits, outcome.highlight_terms, get_session(), store(), outcome.analyzer)
        if len(items) < len(outcome.hits):
            # Rows hidden in the database since they were indexed were dropped: repair the index and search
            # again, so the count, the pages and this page's ten results agree.
            current_app.extensions["search_indexer"].refresh([(h.kind, h.ref) for h in outcome.hits])
            outcome = service().search(raw, kind=kind, sort=sort, page=page)
            items = hydrate(outcome.hits, outcome.highlight_terms, get_session(), store(), outcome.analyzer)
        total = outcome.total
    else:
        total = 0
    if as_json:
        return _json(
            {
                "query": query,
                "kind": kind,
                "sort": sort,
                "page": outcome.page if outcome else 1,
                "pages": outcome.pages if outcome else 0,
                "total": total,
                "full_matches": max(0, min(total, outcome.full)) if outcome else 0,  # results with every word
                "did_you_mean": outcome.did_you_mean if outcome else None,
                "any_words": outcome.any_words if outcome else False,
                "results": [item.as_json() for item in items or []],
            }
        )
    return _render(query=query, kind=kind, sort=sort, outcome=outcome, items=items, total=total)


RETRY_AFTER = 30  # seconds: a small index rebuilds in a few, a large forum's in well under a minute a 1,000 posts


def _index_problems() -> list[str]:
    return service().problems()


def _index_unavailable(reason: str, as_json: bool):
    """Answer at once and let one background rebuild restore the index (repair.py); pages keep working."""
    repair.get(current_app._get_current_object()).request(reason, wait=bool(current_app.config["SEARCH_REQUEST_WAITS_FOR_BUILD"]))
    if current_app.config["SEARCH_REQUEST_WAITS_FOR_BUILD"] and not _index_problems():
        return search()  # the tests' setting: the same rebuild, waited for
    message = (
        "Search is being rebuilt and will be back in a minute or two. The information pages work as usual: use the menu or the links below."
    )
    if as_json:
        response = _json({"error": message, "retry_after": RETRY_AFTER}, 503)
    else:
        response = Response(render_error_page(message), 503)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def render_error_page(message: str) -> str:
    return render_template(
        "errors/error.html", code=503, title="Search is not available for a moment", detail=message, advice="Please try again in a minute."
    )


def _json(data: dict, status: int = 200) -> Response:
    """JSON with <, > and & as \\u escapes, so the reader's query is inert even if sniffed as HTML."""
    body = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Response(body, status=status, mimetype="application/json")


def _render(query: str, kind: str, sort: str, outcome=None, items=None, error: str | None = None, total: int = 0) -> str:
    pages = store()
    useful = [p for p in (pages.get(slug) for slug in USEFUL_PAGES) if p is not None]

    def url_for_page(number: int) -> str:
        return url_for("search.search", q=query, kind=kind, sort=sort, page=number)

    return render_template(
        "search/results.html",
        query=query,
        kind=kind,
        sort=sort,
        outcome=outcome,
        items=items,
        total=total,
        error=error,
        useful=useful,
        kind_labels=KIND_LABELS,
        sort_labels=SORT_LABELS,
        url_for_page=url_for_page,
        header_query=query,
    )


@bp.get("/opensearch.xml")
def opensearch():
    body = render_template("search/opensearch.xml", site_url=current_app.config["SITE_URL"])
    return Response(body, mimetype="application/opensearchdescription+xml")
