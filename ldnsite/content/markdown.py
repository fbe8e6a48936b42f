"""Markdown for editorial pages: heading ids for the contents list, NHS.UK care cards, numbered citations.

Raw HTML is off here too: pages are trusted, but keeping one strict
renderer means a copy-and-paste mistake cannot break the CSP or the layout.

Everything a page shows from its own words (key facts, the safety warning,
the evidence line, the body, the questions) goes through `render_page_markdown`
in the order the reader meets it, so citation ids run in page order and each
reference can link back to the place it is first cited. The same pass keeps
the plain prose blocks the reading-level measure needs, so that measure reads
exactly what the reader reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import escape
from mdit_py_plugins.container import container_plugin


class PageText(Protocol):
    """The fields of a content page (store.Page) this renderer reads; it writes the rendered ones back.

    Why a protocol: the store calls the renderer, so the renderer must not import the store.
    """

    key_facts: list
    evidence_line: str
    safety: str
    body_source: str
    questions: list

    def reference(self, key: str) -> Any: ...


CITATION = re.compile(r"\[((?:@[\w:-]+(?:\s*;\s*)?)+)\]")
# The level names and the hidden words a screen reader hears first (NHS.UK care card pattern).
CARE_LEVELS = {
    "non-urgent": "Non-urgent advice: ",
    "urgent": "Urgent advice: ",
    "emergency": "Immediate action required: ",
}
QUESTIONS_HEADING = re.compile(r"questions to ask your doctor", re.I)


def _is_care(params: str, _markup: str = "") -> bool:
    """Any `::: care ...` opens a card, so a misspelt level is reported by the check, not shown as raw colons."""
    return params.strip().split(" ", 1)[0] == "care"


def _render_care(self, tokens: list[Token], idx: int, _options, _env) -> str:
    tok = tokens[idx]
    if tok.nesting == -1:
        return "</div>\n</div>\n"
    level = tok.meta.get("level", "non-urgent")
    css = level if level in CARE_LEVELS else "non-urgent"
    opening = f'<div class="care-card care-card--{css}">\n'
    return opening if tok.meta.get("has_heading") else opening + '<div class="care-card__content">\n'


def _render_care_heading(self, tokens: list[Token], idx: int, _options, _env) -> str:
    tok = tokens[idx]
    if tok.nesting == -1:
        return f'</{tok.tag}>\n</div>\n<div class="care-card__content">\n'
    prefix = CARE_LEVELS.get(tok.meta["level"], "Advice: ")
    return f'<div class="care-card__heading"><{tok.tag} class="care-card__title"><span class="visually-hidden">{prefix}</span>'


def _render_questions(self, tokens: list[Token], idx: int, _options, _env) -> str:
    return tokens[idx].content


_md = MarkdownIt("commonmark", {"html": False, "typographer": False})
_md.use(container_plugin, name="care", validate=_is_care, render=_render_care)
_md.add_render_rule("care_heading_open", _render_care_heading)
_md.add_render_rule("care_heading_close", _render_care_heading)
_md.add_render_rule("questions_list", _render_questions)


@dataclass
class CareCard:
    level: str
    heading: str
    section: str  # the H2 it sits under ("" before the first H2)
    text: str = ""  # the card's words after its heading


@dataclass
class Citations:
    """Numbers `[@key]` against one page's references and gives each citation group an id, in page order."""

    page: PageText
    count: int = 0
    cited: list[str] = field(default_factory=list)
    first: dict[str, str] = field(default_factory=dict)  # reference key -> id of its first citation

    def __call__(self, html: str) -> str:
        return CITATION.sub(self._cite, html)

    def _cite(self, match: re.Match) -> str:
        """One link per group: `[@a; @b]` is one tab stop whose name lists both numbers, not one per number."""
        self.count += 1
        cite_id = f"cite-{self.count}"
        keys = re.findall(r"@([\w:-]+)", match.group(1))
        refs, missing = [], []
        for key in keys:
            self.cited.append(key)
            self.first.setdefault(key, cite_id)
            ref = self.page.reference(key)
            if ref is None:
                missing.append(key)
            else:
                refs.append(ref)
        parts = []
        if refs:
            numbers = [str(r.number) for r in refs]
            noun = "Reference " if len(refs) == 1 else "References "
            spoken = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]
            parts.append(
                f'<a href="#ref-{refs[0].number}" class="cite-link" id="{cite_id}">'
                f'<span class="visually-hidden">{noun}{spoken}</span><span aria-hidden="true">[{", ".join(numbers)}]</span></a>'
            )
        parts += [f'<span class="cite-missing">{escape(k)}?</span>' for k in missing]
        # The id sits on the link, not the <sup>: search strips `<sup class="cite">` from indexed text as it is.
        return '<sup class="cite">' + " ".join(parts) + "</sup>"


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def plain_inline(tok: Token) -> str:
    """Words of an inline token as a reader sees them: link text kept, markup and citations dropped."""
    text = "".join(
        " " if c.type in ("softbreak", "hardbreak") else c.content
        for c in tok.children or []
        if c.type in ("text", "code_inline", "softbreak", "hardbreak")
    )
    text = re.sub(r"\s+", " ", CITATION.sub("", text)).strip()
    return re.sub(r"\s+([.,;:!?)])", r"\1", text)


def prose_blocks(tokens: list[Token]) -> list[str]:
    """Text of each paragraph and list item, not headings, tables or care card headings."""
    blocks, in_table, in_care_heading = [], 0, False
    for i, tok in enumerate(tokens):
        if tok.type == "table_open":
            in_table += 1
        elif tok.type == "table_close":
            in_table -= 1
        elif tok.type in ("care_heading_open", "care_heading_close"):
            in_care_heading = tok.nesting == 1
        elif tok.type == "inline" and not in_table and not in_care_heading:
            text = plain_inline(tok)
            if text and i > 0 and tokens[i - 1].type == "paragraph_open":  # list items hold paragraphs too
                blocks.append(text)
    return blocks


def _mark_care_cards(tokens: list[Token]) -> list[CareCard]:
    """Turn each card's first paragraph into its heading, one level below the heading it sits under."""
    cards, last_level, section = [], 2, ""
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            last_level = int(tok.tag[1])
            if tok.tag == "h2":
                section = plain_inline(tokens[i + 1])
        elif tok.type == "container_care_open":
            parts = tok.info.split()
            level = parts[1] if len(parts) > 1 else ""
            tok.meta["level"] = level
            heading = ""
            if tokens[i + 1].type == "paragraph_open" and tokens[i + 3].type == "paragraph_close":
                tag = f"h{min(last_level + 1, 6)}"
                for t, kind in ((tokens[i + 1], "care_heading_open"), (tokens[i + 3], "care_heading_close")):
                    t.type, t.tag, t.meta = kind, tag, {"level": level}
                heading = plain_inline(tokens[i + 2])
                tok.meta["has_heading"] = True
            cards.append(CareCard(level, heading, section, _card_text(tokens, i, skip=3 if heading else 0)))
    return cards


def _card_text(tokens: list[Token], start: int, skip: int) -> str:
    words, depth = [], 0
    for tok in tokens[start + 1 + skip :]:
        if tok.type == "container_care_open":
            depth += 1
        elif tok.type == "container_care_close":
            if depth == 0:
                break
            depth -= 1
        elif tok.type == "inline":
            words.append(plain_inline(tok))
    return " ".join(words)


def heading_outline(source: str) -> list[tuple[int, str]]:
    """(level, text) of every heading in a Markdown body, in order."""
    tokens = _md.parse(source)
    return [(int(t.tag[1]), plain_inline(tokens[i + 1])) for i, t in enumerate(tokens) if t.type == "heading_open"]


def _insert_questions(tokens: list[Token], questions_html: str) -> list[Token]:
    """Put the questions list at the end of the "Questions to ask your doctor" section."""
    start = next(
        (i for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2" and QUESTIONS_HEADING.search(tokens[i + 1].content)),
        None,
    )
    if start is None or not questions_html:
        return tokens
    end = next((i for i in range(start + 3, len(tokens)) if tokens[i].type == "heading_open" and tokens[i].tag == "h2"), len(tokens))
    block = Token("questions_list", "", 0)
    block.content = questions_html
    return [*tokens[:end], block, *tokens[end:]]


def questions_list_html(questions: list[str]) -> str:
    """The questions as a list; citations in them are numbered later with the text around them."""
    if not questions:
        return ""
    items = "".join(f"<li>{_md.renderInline(str(q))}</li>\n" for q in questions)
    return f'<ul class="questions">\n{items}</ul>\n'


def render_page_markdown(page: PageText) -> None:
    cite = Citations(page)
    page.key_facts_html = [cite(_md.renderInline(str(f))) for f in page.key_facts]
    page.evidence_line_html = cite(_md.renderInline(page.evidence_line)) if page.evidence_line else ""
    safety_tokens = _md.parse(page.safety) if page.safety else []
    safety_cards = _mark_care_cards(safety_tokens)
    page.safety_html = cite(_md.renderer.render(safety_tokens, _md.options, {})) if page.safety else ""

    tokens = _md.parse(page.body_source)
    page.care_cards = safety_cards + _mark_care_cards(tokens)
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
    page.prose = [*prose_blocks(safety_tokens), *prose_blocks(tokens), *(_plain(q) for q in page.questions)]
    page.key_fact_prose = [_plain(f) for f in page.key_facts]
    page.questions_html = [_md.renderInline(str(q)) for q in page.questions]  # uncited: for the printable summary
    # The questions render inside the body (after its heading), so they are numbered with it.
    tokens = _insert_questions(tokens, questions_list_html(page.questions))
    page.html = cite(_md.renderer.render(tokens, _md.options, {}))
    page.toc = toc
    page.cited_keys = cite.cited
    page.first_citation = cite.first
    page.internal_links = [h for h in links if h and h.startswith("/")]


def _plain(text: str) -> str:
    tokens = _md.parse(str(text))
    return " ".join(plain_inline(t) for t in tokens if t.type == "inline")
