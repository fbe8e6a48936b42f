"""Markdown for editorial pages: headings get ids for the contents list, `[@key]` becomes a numbered citation.

Raw HTML is off here too: pages are trusted, but keeping one strict
renderer means a copy-and-paste mistake cannot break the CSP or the layout.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from markupsafe import escape

if TYPE_CHECKING:
    from ldnsite.content.store import Page

CITATION = re.compile(r"\[((?:@[\w:-]+(?:\s*;\s*)?)+)\]")
_md = MarkdownIt("commonmark", {"html": False, "typographer": False})


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def render_page_markdown(page: Page) -> None:
    tokens = _md.parse(page.body_source)
    toc: list[tuple[str, str]] = []
    links: list[str] = []
    used: set[str] = set()
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            text = CITATION.sub("", tokens[i + 1].content).strip()
            anchor = slugify(text)
            while anchor in used:
                anchor += "-x"
            used.add(anchor)
            tok.attrSet("id", anchor)
            if tok.tag == "h2":
                toc.append((anchor, text))
        if tok.type == "inline" and tok.children:
            links += [c.attrGet("href") for c in tok.children if c.type == "link_open"]
    html = _md.renderer.render(tokens, _md.options, {})
    cited: list[str] = []

    def cite(match: re.Match) -> str:
        parts = []
        for key in re.findall(r"@([\w:-]+)", match.group(1)):
            cited.append(key)
            ref = page.reference(key)
            if ref is None:
                parts.append(f'<span class="cite-missing">{escape(key)}?</span>')
            else:
                parts.append(
                    f'<a href="#ref-{ref.number}"><span class="visually-hidden">Reference </span>{ref.number}</a>'
                )
        return '<sup class="cite">[' + ", ".join(parts) + "]</sup>"

    page.html = CITATION.sub(cite, html)
    page.toc = toc
    page.cited_keys = cited
    page.internal_links = [h for h in links if h and h.startswith("/")]
