"""The post sanitiser: known XSS payloads and fuzzed input never leave anything executable.

Each output is parsed back with html.parser and audited: only allowlisted
tags, only a[href, title, rel], no on* attributes, every href absolute
http/https/mailto, and no javascript:/vbscript:/data: in any attribute value
after entity decoding and removal of the whitespace and control characters
browsers ignore inside URLs.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldnsite.sanitising.posts import render_post

PAYLOADS_FILE = Path(__file__).parent / "data" / "xss_payloads.txt"
ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre", "h3", "h4", "h5", "h6"}
ALLOWED_ATTRS = {"a": {"href", "title", "rel"}}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]")


def load_payloads() -> list[str]:
    escapes = {"\\n": "\n", "\\t": "\t", "\\r": "\r", "\\0": "\x00"}
    payloads = []
    for line in PAYLOADS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#|"):
            continue
        for marker, char in escapes.items():
            line = line.replace(marker, char)
        payloads.append(line)
    return payloads


PAYLOADS = load_payloads()


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            value = html.unescape(value or "")
            flat = _IGNORED_IN_URLS.sub("", value).lower()
            if name.startswith("on"):
                self.problems.append(f"event handler {name}")
            if name not in ALLOWED_ATTRS.get(tag, set()):
                self.problems.append(f"attribute {name} on <{tag}>")
            if any(scheme in flat for scheme in DANGEROUS_SCHEMES):
                self.problems.append(f"dangerous URL in {name}={value!r}")
            if name == "href" and urlsplit(value.strip()).scheme.lower() not in ("http", "https", "mailto"):
                self.problems.append(f"href scheme not allowed: {value!r}")
        if tag == "a" and dict(attrs).get("rel") != "nofollow ugc noopener":
            self.problems.append(f"link without rel=nofollow ugc noopener: {attrs!r}")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data):
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl):
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data):
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data):
        self.problems.append(f"declaration {data!r}")


def problems_in(output: str) -> list[str]:
    audit = Audit()
    audit.feed(output)
    audit.close()
    return audit.problems


def test_the_payload_list_is_long_enough_to_mean_something():
    assert len(PAYLOADS) >= 100
    assert len(set(PAYLOADS)) == len(PAYLOADS), "duplicate payloads"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_known_xss_payload_leaves_nothing_executable(payload):
    output = render_post(payload)
    assert problems_in(output) == [], f"{payload!r} -> {output!r}"


def test_the_audit_itself_catches_executable_html():
    """If the checker could not see these, every payload test above would pass for nothing."""
    assert problems_in('<img src=x onerror="alert(1)">')
    assert problems_in('<a href="jav&#x09;ascript:alert(1)" rel="nofollow ugc noopener">x</a>')
    assert problems_in('<a href="ftp://x.org" rel="nofollow ugc noopener">x</a>')
    assert problems_in("<svg></svg>")
    assert problems_in("<!-- x -->")
    assert problems_in('<a href="https://x.org">no rel</a>')
    assert not problems_in('<p><a href="https://x.org" rel="nofollow ugc noopener">ok</a></p>')


FRAGMENTS = [
    "<",
    ">",
    "</",
    "/>",
    '"',
    "'",
    "=",
    "`",
    "&",
    "&#",
    "&#x6a;",
    "&#106;",
    "&colon;",
    ";",
    "(",
    ")",
    "[",
    "]",
    "![",
    "](",
    "]:",
    "*",
    "_",
    "#",
    "\n",
    "\n\n",
    "\t",
    " ",
    "    ",
    ">",
    "- ",
    "1. ",
    "```",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "javascript:",
    "JaVaScRiPt:",
    "java\tscript:",
    "vbscript:",
    "data:text/html,",
    "alert(1)",
    "http://",
    "https://x.org",
    "www.",
    "mailto:",
    "ftp://",
    "xmpp:",
    "@",
    "<script>",
    "</script>",
    "<svg",
    "<math>",
    "<style>",
    "<noscript>",
    "<template>",
    "<textarea>",
    "<a href=",
    "<img src=x",
    " onerror=",
    " onload=",
    "<iframe",
    '<p title="',
]
markdownish = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40).map("".join)


@settings(max_examples=100, deadline=None)
@given(st.one_of(markdownish, st.text(max_size=200)))
def test_fuzzed_input_leaves_nothing_executable(source):
    output = render_post(source)
    assert problems_in(output) == [], f"{source!r} -> {output!r}"


# ---- what members see ---------------------------------------------------------------------


def test_markdown_formatting_is_kept():
    output = render_post("**bold** and *it*\n\n> quoted\n\n- one\n- two\n\n1. first\n\n`code`")
    for expected in ("<strong>bold</strong>", "<em>it</em>", "<blockquote>", "<ul>", "<ol>", "<code>code</code>"):
        assert expected in output


def test_links_get_rel_nofollow_ugc_noopener():
    output = render_post("[the trial](https://example.org/trial) and https://example.com/x")
    assert output.count('rel="nofollow ugc noopener"') == 2
    assert 'href="https://example.org/trial"' in output
    assert 'href="https://example.com/x"' in output


def test_links_that_are_not_http_https_or_mailto_become_plain_text():
    output = render_post("ftp://files.example.org/x xmpp:someone@example.org [rel](/account/settings) <mailto:a@example.org>")
    assert "ftp://files.example.org/x" in output and 'href="ftp' not in output
    assert 'href="xmpp' not in output
    assert "rel" in output and 'href="/account' not in output
    assert 'href="mailto:a@example.org"' in output


def test_bare_email_addresses_are_not_turned_into_links():
    assert "<a" not in render_post("write to someone@example.org")


def test_headings_start_at_h3_so_the_page_outline_holds():
    output = render_post("# Big\n\n## Smaller\n\n#### Small")
    assert "<h1" not in output and "<h2" not in output
    assert "<h3>Big</h3>" in output and "<h3>Smaller</h3>" in output and "<h4>Small</h4>" in output


def test_images_show_their_alt_text_only():
    output = render_post("![a chart of pain scores](https://example.org/chart.png)")
    assert "<img" not in output and "a chart of pain scores" in output


def test_html_typed_by_a_member_is_shown_as_text():
    assert render_post("I take it <b>at night</b>") == "<p>I take it &lt;b&gt;at night&lt;/b&gt;</p>"


def test_code_blocks_are_escaped_once_and_not_linked():
    output = render_post("```\n<b>x</b> & https://example.org\n```")
    assert "&lt;b&gt;x&lt;/b&gt; &amp; https://example.org" in output
    assert "<a" not in output
