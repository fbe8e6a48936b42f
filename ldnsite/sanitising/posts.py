"""The one place member-written Markdown becomes HTML.

Why a single small module: bleach 6.4.0 is its last release, so the HTML
sanitiser will have to be replaced one day. Every caller goes through
`render_post`, and this is the only module that imports bleach; swapping the
sanitiser (for nh3 or justhtml) changes this file and nothing else.

The pipeline has three walls, each enough on its own for the common attacks:

1. markdown-it-py with raw HTML off: anything a member types that looks like
   HTML comes out as escaped text, and markdown-it refuses javascript:,
   vbscript:, file: and data: link targets.
2. bleach.clean with a short allowlist of tags and one attribute set (a:
   href, title, rel), protocols http, https and mailto. No svg, math,
   noscript, style, script, template, textarea or other raw-text element is
   ever allowed: those are where parser-differential (mutation) XSS lives.
3. bleach's linkify, whose callback enforces the scheme allowlist itself
   (linkify's own pattern would also link ftp:, xmpp: and others) and marks
   every link rel="nofollow ugc noopener".

The site's Content-Security-Policy (no inline script) is the wall behind all
three.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import bleach
from bleach.linkifier import Linker
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre", "h3", "h4", "h5", "h6"})
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# The page around a post already uses h1 (topic) and h2 (post headings), so a
# member's "# Heading" becomes h3: the outline of the page stays correct.
_HEADING_MAP = {"h1": "h3", "h2": "h3"}

# Bare URLs are found by markdown-it's linkify (linkify-it-py), which knows
# not to look inside code; bleach's own linkify with skip_tags double-escapes
# the text of skipped elements, so bleach only runs its callbacks (below).
_md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False}).enable("linkify")
_md.linkify.set({"fuzzy_email": False})  # like parse_email=False: no guessed mailto: links


def _image_as_text(_renderer, tokens, idx, _options, _env) -> str:
    """Images are not allowed (tracking pixels, shock images): show the alt text instead."""
    token = tokens[idx]
    alt = "".join(child.content for child in (token.children or []))
    return html.escape(alt)


_md.add_render_rule("image", _image_as_text)


def _enforce_link_policy(attrs: dict, new: bool = False) -> dict | None:
    """bleach linkify callback: keep only absolute http(s)/mailto links, and mark them rel="nofollow ugc noopener".

    Returning None removes the link and keeps its text. Relative links are
    dropped too: a post has no business pointing at paths on this site that
    a reader cannot see the target of.
    """
    href = attrs.get((None, "href"), "")
    try:
        scheme = urlsplit(href.strip()).scheme.lower()
    except ValueError:
        return None
    if scheme not in ALLOWED_PROTOCOLS:
        return None
    attrs[(None, "rel")] = LINK_REL
    attrs.pop((None, "target"), None)
    return attrs


_cleaner = bleach.sanitizer.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
)
# A pattern that never matches: bleach finds no new links in text, but still
# passes every existing <a> through the callback, which is the policy check.
_NEVER = re.compile(r"(?!)")
_linker = Linker(callbacks=[_enforce_link_policy], url_re=_NEVER, email_re=_NEVER, parse_email=False)


def _markdown_to_html(source: str) -> str:
    env: dict = {}
    tokens = _md.parse(source, env)
    for token in tokens:
        if token.type in ("heading_open", "heading_close") and token.tag in _HEADING_MAP:
            token.tag = _HEADING_MAP[token.tag]
    return _md.renderer.render(tokens, _md.options, env)


def render_post(source: str) -> str:
    """Render a member's Markdown to HTML that is safe to mark |safe in a template."""
    source = source.replace("\x00", "\ufffd")
    cleaned = _cleaner.clean(_markdown_to_html(source))
    return _linker.linkify(cleaned).strip()
