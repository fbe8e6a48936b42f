"""Reader-facing pages. The URLs are a contract (design.md): tests and outside checks rely on them."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from xml.sax.saxutils import escape as xml_escape

from flask import Response, abort, current_app, redirect, render_template, url_for
from sqlalchemy import text

from ldnsite import hooks
from ldnsite.content import bp, store
from ldnsite.content.page_cache import cached_page
from ldnsite.db import get_session

log = logging.getLogger(__name__)


def _page_or_404(slug: str, kinds: tuple[str, ...]):
    page = store().get(slug)
    if page is None or page.kind not in kinds or page.is_research_child:
        abort(404)
    return page


def _pages(slugs, *, besides) -> list:
    """The named pages that exist, each once, never the page itself (so "About:" never names its own page)."""
    pages = store()
    found = [pages.get(s) for s in dict.fromkeys(slugs) if s != besides.slug]
    return [p for p in found if p is not None]


def _render_page(page, parent=None):
    pages = store()
    conditions = _pages(page.conditions, besides=page)
    related = _pages(page.related, besides=page)
    research = None if parent else pages.research_for(page.slug)
    return cached_page(
        ("page", page.slug, pages.generation),
        lambda: render_template(
            "content/page.html", page=page, related=related, conditions=conditions, parent=parent, research=research, today=date.today()
        ),
        page.mtime,
    )


def _render_summary(page):
    pages = store()
    return cached_page(
        ("summary", page.slug, pages.generation),
        lambda: render_template("content/summary.html", page=page),
        page.mtime,
    )


def _newest(pages) -> float | None:
    """A list changes when any page in it does."""
    return max((p.mtime for p in pages), default=None)


@bp.get("/")
def home():
    pages = store()
    latest = next((source(5) for source in hooks.registered(hooks.LATEST_TOPICS)), [])
    return render_template(
        "content/home.html",
        article=pages.get("low-dose-naltrexone"),
        conditions=pages.of_kind("condition"),
        treatments=pages.of_kind("article", "treatment"),
        latest_topics=latest,
    )


def _list_page(name: str, kinds: tuple[str, ...], title: str, intro: str):
    """A list of the pages of some kinds, cached per content generation like the pages themselves."""
    pages = store()
    listed = pages.of_kind(*kinds)
    return cached_page(
        ("list", name, pages.generation),
        lambda: render_template("content/list.html", title=title, pages=listed, intro=intro),
        _newest(listed),
    )


@bp.get("/treatments/")
def treatments():
    return _list_page(
        "treatments",
        ("article", "treatment"),
        "Treatments",
        "Medicines and other approaches for fibromyalgia and ME/CFS, with what the research shows.",
    )


@bp.get("/treatments/<slug>")
def treatment(slug: str):
    page = store().get(slug)
    if page is not None and page.is_research_child:
        # One address per page: the old flat address of a research page leads to its real one.
        return redirect(page.url, code=301)
    return _render_page(_page_or_404(slug, ("article", "treatment")))


@bp.get("/treatments/<slug>/research")
def treatment_research(slug: str):
    parent = _page_or_404(slug, ("article", "treatment"))
    research = store().research_for(parent.slug)
    if research is None:
        abort(404)
    return _render_page(research, parent=parent)


@bp.get("/treatments/<slug>/summary")
def treatment_summary(slug: str):
    page = _page_or_404(slug, ("article", "treatment"))
    if not page.has_summary:
        abort(404)
    return _render_summary(page)


@bp.get("/conditions/")
def conditions():
    return _list_page("conditions", ("condition",), "Conditions", "The long-term conditions this site covers.")


@bp.get("/conditions/<slug>")
def condition(slug: str):
    return _render_page(_page_or_404(slug, ("condition",)))


@bp.get("/conditions/<slug>/summary")
def condition_summary(slug: str):
    page = _page_or_404(slug, ("condition",))
    if not page.has_summary:
        abort(404)
    return _render_summary(page)


@bp.get("/privacy")
def privacy():
    return _render_page(_page_or_404("privacy", ("info",)))


@bp.get("/accessibility")
def accessibility():
    return _render_page(_page_or_404("accessibility", ("info",)))


@bp.get("/about")
def about():
    return _render_page(_page_or_404("about", ("info",)))


@bp.get("/healthz")
def healthz():
    try:
        get_session().execute(text("SELECT 1"))
    except Exception:
        log.exception("health check: database unreachable")
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "pages": len(store().all())}


@bp.get("/robots.txt")
def robots():
    body = (
        "User-agent: *\nDisallow: /account/\nDisallow: /moderation/\nDisallow: /search\n"
        "Disallow: /forum/new\nDisallow: /unsubscribe/\n"
        f"Sitemap: {current_app.config['SITE_URL']}/sitemap.xml\n"
    )
    return Response(body, mimetype="text/plain")


def _iso(value) -> str:
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@bp.get("/sitemap.xml")
def sitemap():
    site = current_app.config["SITE_URL"]
    entries = [(site + "/", None), (site + url_for("content.treatments"), None), (site + url_for("content.conditions"), None)]
    entries += [(site + p.url, p.reviewed) for p in store().all()]
    for source in hooks.registered(hooks.SITEMAP_SOURCES):
        entries += [(site + url, lastmod) for url, lastmod in source()]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for loc, lastmod in entries:
        lines.append("<url><loc>" + xml_escape(loc) + "</loc>" + (f"<lastmod>{_iso(lastmod)}</lastmod>" if lastmod else "") + "</url>")
    lines.append("</urlset>")
    return Response("\n".join(lines), mimetype="application/xml")


@bp.get("/feed.xml")
def feed():
    """Atom feed of page updates, newest review first."""
    site = current_app.config["SITE_URL"]
    pages = sorted((p for p in store().all() if p.kind != "info"), key=lambda p: p.reviewed or date.min, reverse=True)
    updated = _iso(pages[0].reviewed) + "T00:00:00Z" if pages and pages[0].reviewed else "2026-01-01T00:00:00Z"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{xml_escape(current_app.config['SITE_NAME'])}: page updates</title>",
        f'<link href="{xml_escape(site)}/feed.xml" rel="self"/>',
        f'<link href="{xml_escape(site)}/"/>',
        f"<id>{xml_escape(site)}/feed.xml</id>",
        f"<updated>{updated}</updated>",
    ]
    for p in pages:
        stamp = (_iso(p.reviewed) if p.reviewed else "2026-01-01") + "T00:00:00Z"
        parts += [
            "<entry>",
            f"<title>{xml_escape(p.title)}</title>",
            f'<link href="{xml_escape(site + p.url)}"/>',
            f"<id>{xml_escape(site + p.url)}</id>",
            f"<updated>{stamp}</updated>",
            f"<summary>{xml_escape(p.summary)}</summary>",
            "<author><name>" + xml_escape(str(p.reviewer.get("name", "Editorial team"))) + "</name></author>",
            "</entry>",
        ]
    parts.append("</feed>")
    return Response("\n".join(parts), mimetype="application/atom+xml")
