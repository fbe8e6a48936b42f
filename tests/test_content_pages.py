"""HTTP tests for the reader-facing pages: every page in site/ at its URL with everything a reader
relies on (who reviewed it, its sources, the disclaimer), the listings, the machine-readable
endpoints, and cache revalidation with ETag / Last-Modified.

The pages come from the real site/ folder (or CONTENT_DIR_UNDER_TEST), so a page the
editors add is checked the moment it exists.
"""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ldnsite.content.store import ContentStore

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("CONTENT_DIR_UNDER_TEST", ROOT / "site"))
PAGES = ContentStore(SITE).all()
CONTENT_PAGES = [p for p in PAGES if p.kind != "info"]
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CONTENT_DIR": str(SITE)}


# ---- a small DOM, enough to ask "which headings, which links, inside what" ----------------


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def text(self) -> str:
        return " ".join("".join(c if isinstance(c, str) else " " + c.text + " " for c in self.children).split())

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list[Node]:
        return [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag)
            and (cls is None or cls in (n.attrs.get("class") or "").split())
            and all(n.attrs.get(k) == v for k, v in attrs.items())
        ]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs) -> Node | None:
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        n = self.current
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.current = n.parent

    def handle_data(self, data):
        self.current.children.append(data)


def dom(html: str | bytes) -> Node:
    b = _Builder()
    b.feed(html.decode() if isinstance(html, bytes) else html)
    return b.root


# ---- every page at its URL ----------------------------------------------------------------


def test_site_has_the_pages_the_issue_names():
    slugs = {p.slug for p in PAGES}
    required = {
        "low-dose-naltrexone",
        "fibromyalgia",
        "me-cfs",
        "pregabalin",
        "duloxetine",
        "milnacipran",
        "amitriptyline",
        "gabapentin",
        "cyclobenzaprine",
        "exercise",
        "cognitive-behavioural-therapy",
        "pacing",
        "privacy",
        "accessibility",
        "about",
    }
    assert not required - slugs, f"missing pages: {sorted(required - slugs)}"


@pytest.mark.parametrize(
    ("url", "h1_contains"),
    [
        ("/", "Low-dose naltrexone"),
        ("/treatments/", "Treatments"),
        ("/conditions/", "Conditions"),
        ("/privacy", "Privacy"),
        ("/accessibility", "Accessibility statement"),
        ("/about", "About"),
    ],
)
def test_fixed_pages_answer_with_one_h1(client, url, h1_contains):
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    h1s = dom(response.data).find_all("h1")
    assert len(h1s) == 1
    assert h1_contains in h1s[0].text


def test_lists_link_every_page_of_their_kind(client):
    treatments = {a.attrs["href"] for a in dom(client.get("/treatments/").data).find("main").find_all("a")}
    conditions = {a.attrs["href"] for a in dom(client.get("/conditions/").data).find("main").find_all("a")}
    home = {a.attrs.get("href") for a in dom(client.get("/").data).find("main").find_all("a")}
    for p in PAGES:
        if p.is_research_child:  # reached from the page it belongs to, not listed on its own
            assert p.url not in treatments
            assert p.url in {a.attrs.get("href") for a in dom(client.get(PAGES_BY_SLUG[p.parent].url).data).find_all("a")}
        elif p.kind in ("article", "treatment"):
            assert p.url in treatments and p.url in home, p.url
        elif p.kind == "condition":
            assert p.url in conditions and p.url in home, p.url


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.slug)
def test_every_page_answers_at_its_url(client, page):
    expected = {"article": "/treatments/", "treatment": "/treatments/", "condition": "/conditions/", "info": "/"}[page.kind]
    if page.is_research_child:
        assert page.url == f"{expected}{page.parent}/research"
    else:
        assert page.url == expected + page.slug
    response = client.get(page.url)
    assert response.status_code == 200
    doc = dom(response.data)
    h1s = doc.find_all("h1")
    assert [h.text for h in h1s] == [page.title]
    assert doc.find("title").text.startswith(page.title)
    assert page.summary in doc.find("main").text
    crumbs = doc.find("nav", **{"aria-label": "Breadcrumb"})
    assert crumbs is not None
    items = crumbs.find_all("li")
    assert items[0].find("a").attrs["href"] == "/"
    assert items[-1].find("span", **{"aria-current": "page"}).text == page.title
    review = doc.find("div", cls="review-dates")
    assert page.reviewer["name"] in review.text
    assert review.find_all("time")[0].attrs["datetime"] == page.reviewed.isoformat()
    assert review.find_all("time")[1].attrs["datetime"] == page.next_review.isoformat()
    assert "Next review due" in review.text


@pytest.mark.parametrize("page", CONTENT_PAGES, ids=lambda p: p.slug)
def test_content_page_shows_sources_disclaimer_related_and_discussion(client, page):
    doc = dom(client.get(page.url).data)
    refs = doc.find("section", cls="references")
    assert refs is not None and refs.find("h2").text == "References"
    items = refs.find("ol").find_all("li")
    assert len(items) == len(page.references) > 0
    for number, (li, ref) in enumerate(zip(items, page.references, strict=True), start=1):
        assert li.attrs["id"] == f"ref-{number}"
        assert ref.title in li.text
        sources = [a.attrs["href"] for a in li.find_all("a", cls="ref-link")]
        # One source link per reference (fewer tab stops): PubMed, else DOI, else the official page.
        assert len(sources) == 1, f"reference {number} has {len(sources)} source links"
        assert sources[0].startswith(("https://pubmed.ncbi.nlm.nih.gov/", "https://doi.org/")) or ref.url == sources[0]
        back = li.find_all("a", cls="ref-back")
        assert [a.attrs["href"] for a in back] == [f"#{page.first_citation[ref.key]}"]
        assert doc.find(id=page.first_citation[ref.key]) is not None
    # Every numbered citation in the text points at a reference that exists.
    for a in doc.find("div", cls="prose").find_all("a"):
        if a.attrs["href"].startswith("#ref-"):
            assert doc.find("li", id=a.attrs["href"][1:]) is not None
    disclaimer = doc.find("aside", cls="disclaimer")
    assert disclaimer is not None and "not medical advice" in disclaimer.text
    if page.related:
        related = doc.find("nav", cls="related")
        assert {a.attrs["href"] for a in related.find_all("a")} >= {PAGES_BY_SLUG[s].url for s in page.related}
    if page.evidence:
        table = doc.find("section", cls="evidence").find("table")
        rows = table.find("tbody").find_all("tr")
        assert len(rows) == len(page.evidence)
        for row, study in zip(rows, page.evidence, strict=True):
            assert row.find("th", scope="row").text.startswith(f"{study['study']} ({study['year']})")
    discuss = [b for b in doc.find_all("button") if b.text == "Discuss this article"]
    assert len(discuss) == 1
    form = discuss[0].parent
    assert form.tag == "form" and form.attrs["action"].startswith("/forum/")


PAGES_BY_SLUG = {p.slug: p for p in PAGES}


def test_long_page_has_a_contents_list_linking_to_its_sections(client):
    page = PAGES_BY_SLUG["low-dose-naltrexone"]
    doc = dom(client.get(page.url).data)
    contents = doc.find("nav", cls="contents")
    assert contents is not None
    for link in contents.find_all("a"):
        assert doc.find(id=link.attrs["href"][1:]) is not None, link.attrs["href"]


def _evidence_row_heads(client, url: str) -> list[str]:
    doc = dom(client.get(url).data)
    table = doc.find("section", cls="evidence").find("table")
    assert table.find("caption") is not None
    headers = [th.text for th in table.find("thead").find_all("th")]
    assert headers[0] == "Study" and "Main result" in headers
    rows = table.find("tbody").find_all("tr")
    for row in rows:
        assert len(row.find_all("td")) == len(headers) - 1
    region = doc.find("section", cls="evidence").find("div", cls="table-wrap")
    assert region.attrs.get("tabindex") == "0" and region.attrs.get("role") == "region"
    return [r.find("th", scope="row").text for r in rows]


def test_ldn_core_table_shows_the_one_positive_and_two_negative_randomised_trials(client):
    heads = _evidence_row_heads(client, "/treatments/low-dose-naltrexone")
    assert [h.split(" (")[0] for h in heads] == ["Younger and colleagues", "Bested and colleagues", "Bruun and colleagues"]
    for year in ("2013", "2023", "2024"):
        assert any(f"({year})" in h for h in heads), f"no {year} trial in {heads}"


def test_ldn_research_page_holds_the_full_evidence_table(client):
    research = PAGES_BY_SLUG["low-dose-naltrexone-research"]
    assert research.meta.get("parent") == "low-dose-naltrexone" and research.meta.get("pattern") == "research"
    heads = _evidence_row_heads(client, research.url)
    # the pilot, the three randomised trials, the dose-finding study, the ME/CFS records and the long COVID review
    for year in ("2009", "2013", "2020", "2023", "2024", "2019", "2025"):
        assert any(f"({year})" in h for h in heads), f"no {year} study in {heads}"
    assert any(h.startswith("Bested and colleagues") for h in heads)


@pytest.mark.parametrize("slug", ["low-dose-naltrexone", "low-dose-naltrexone-research"])
def test_every_ldn_evidence_row_says_how_certain_it_is(slug):
    rows = PAGES_BY_SLUG[slug].evidence
    assert rows
    for row in rows:
        assert row.get("certainty") in ("high", "moderate", "low", "very low"), row["study"]


def test_ldn_safety_warning_names_the_opioids_and_the_waiting_time():
    page = PAGES_BY_SLUG["low-dose-naltrexone"]
    safety = page.meta["safety"]
    for word in (
        "codeine",
        "co-codamol",
        "cough",
        "dihydrocodeine",
        "tramadol",
        "morphine",
        "oxycodone",
        "fentanyl",
        "methadone",
        "buprenorphine",
        "7 to 10 days",
        "overdose",
        "dentist",
    ):
        assert word in safety, word
    assert "doctor's plan" not in page.body_source and "doctor's plan" not in safety
    assert "dummy pill" not in page.body_source


def test_info_pages_say_what_a_reader_needs(client):
    privacy_doc = dom(client.get("/privacy").data).find("main")
    privacy = privacy_doc.text
    for phrase in (
        "scrypt",
        "keyed hash",
        "Deleted member",
        "HttpOnly",
        "SameSite=Lax",
        "do not use analytics",
        "never say whether an address is known",
    ):
        assert phrase in privacy, phrase
    links = {a.attrs["href"] for a in privacy_doc.find_all("a")}
    assert {"/opt-out", "/account/settings"} <= links
    statement = dom(client.get("/accessibility").data).find("main").text
    for phrase in ("WCAG 2.2", "AA", "accessibility@ldn-guide.example", "Equality Advisory and Support Service", "320", "27 November 2026"):
        assert phrase in statement, phrase
    about = dom(client.get("/about").data).find("main").text
    for phrase in ("PubMed", "DOI", "advertising", "sponsorship", "affiliate", "clinical sign-off"):
        assert phrase.lower() in about.lower(), phrase


def test_unknown_slugs_and_wrong_kinds_are_404(client):
    assert client.get("/treatments/no-such-treatment").status_code == 404
    assert client.get("/conditions/no-such-condition").status_code == 404
    assert client.get("/conditions/low-dose-naltrexone").status_code == 404  # a treatment, not a condition
    assert client.get("/treatments/fibromyalgia").status_code == 404
    assert client.get("/treatments/privacy").status_code == 404


# ---- machine-readable endpoints ---------------------------------------------------------


def test_sitemap_is_valid_xml_listing_every_page(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)  # noqa: S314  (our own output, parsed to prove it is well-formed)
    assert root.tag == f"{SITEMAP}urlset"
    locs = [u.find(f"{SITEMAP}loc").text for u in root.findall(f"{SITEMAP}url")]
    assert len(locs) == len(set(locs))
    for p in PAGES:
        assert f"http://localhost{p.url}" in locs
    assert {"http://localhost/", "http://localhost/treatments/", "http://localhost/conditions/"} <= set(locs)
    for url in root.findall(f"{SITEMAP}url"):
        lastmod = url.find(f"{SITEMAP}lastmod")
        if lastmod is not None:
            assert len(lastmod.text) >= 10 and lastmod.text[4] == "-"


def test_robots_allows_reading_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /" not in lines  # the site must stay readable by search engines
    assert "Disallow: /account/" in lines
    assert "Sitemap: http://localhost/sitemap.xml" in lines


def test_feed_is_atom_with_an_entry_per_content_page(client):
    response = client.get("/feed.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)  # noqa: S314
    assert feed.tag == f"{ATOM}feed"
    for required in ("title", "id", "updated"):
        assert feed.find(f"{ATOM}{required}") is not None
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert {e.find(f"{ATOM}link").attrib["href"] for e in entries} == {f"http://localhost{p.url}" for p in CONTENT_PAGES}
    for e in entries:
        for required in ("title", "id", "updated", "summary"):
            assert e.find(f"{ATOM}{required}").text, required
        assert e.find(f"{ATOM}author/{ATOM}name").text
        assert e.find(f"{ATOM}updated").text.endswith("Z")
    updated = [e.find(f"{ATOM}updated").text for e in entries]
    assert updated == sorted(updated, reverse=True), "newest review first"
    assert feed.find(f"{ATOM}updated").text == updated[0]


def test_healthz_reports_ok_with_page_count(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "pages": len(PAGES)}


# ---- caching and revalidation -------------------------------------------------------------


@pytest.mark.parametrize("url", ["/treatments/low-dose-naltrexone", "/conditions/fibromyalgia", "/about", "/treatments/"])
def test_pages_revalidate_with_etag(client, url):
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag
    assert first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    stale = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.data == first.data


def test_if_modified_since_gets_304(client):
    first = client.get("/about")
    again = client.get("/about", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 304


@pytest.fixture
def content_copy(tmp_path):
    folder = tmp_path / "site"
    shutil.copytree(SITE, folder)
    return folder


@pytest.fixture
def copy_client(app_config, content_copy):
    from ldnsite import create_app

    return create_app({**app_config, "CONTENT_DIR": str(content_copy)}).test_client()


def test_edited_page_gets_a_new_etag_and_new_text(copy_client, content_copy):
    first = copy_client.get("/about")
    path = content_copy / "about.md"
    path.write_text(path.read_text() + "\nA sentence the editors have just added.\n")
    os.utime(path, (first_mtime := path.stat().st_mtime + 5, first_mtime))
    second = copy_client.get("/about", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.headers["ETag"] != first.headers["ETag"]
    assert b"A sentence the editors have just added." in second.data
    assert second.last_modified > first.last_modified


def test_touched_page_gets_a_new_last_modified(copy_client, content_copy):
    first = copy_client.get("/privacy")
    path = content_copy / "privacy.md"
    later = path.stat().st_mtime + 3600
    os.utime(path, (later, later))
    second = copy_client.get("/privacy")
    assert second.status_code == 200
    assert second.last_modified > first.last_modified
    assert client_conditional(copy_client, "/privacy", second.headers["Last-Modified"]) == 304


def client_conditional(client, url: str, last_modified: str) -> int:
    return client.get(url, headers={"If-Modified-Since": last_modified}).status_code


def test_signed_in_reader_is_not_served_the_shared_cache(client, make_user):
    user = make_user()
    anonymous = client.get("/about")
    with client.session_transaction() as s:
        s["_user_id"] = f"{user.id}:{user.session_version}"
        s["_fresh"] = True
    member = client.get("/about")
    assert member.status_code == 200
    assert "private" in member.headers["Cache-Control"]
    assert "ETag" not in member.headers
    assert "public" in anonymous.headers["Cache-Control"]


def test_every_worker_and_node_gives_the_same_etag(app_config, client):
    """Behind a load balancer a browser revalidates against any node, so the ETag must not be per-process."""
    from ldnsite import create_app

    other_node = create_app(app_config).test_client()
    for url in ("/treatments/low-dose-naltrexone", "/about", "/treatments/"):
        etag = client.get(url).headers["ETag"]
        assert other_node.get(url).headers["ETag"] == etag
        assert other_node.get(url, headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("/treatments/", "Treatments"),
        ("/conditions/", "Conditions"),
        ("/treatments/low-dose-naltrexone", "Low-dose naltrexone"),
        ("/privacy", "Privacy"),
    ],
)
def test_navigation_marks_the_current_page(client, url, label):
    doc = dom(client.get(url).data)
    current = [a for a in doc.find_all("a") if a.attrs.get("aria-current") == "page"]
    assert [a.text for a in current] == [label]
    assert current[0].attrs["href"] == url


def test_a_page_is_rendered_once_per_change(app_config, content_copy):
    from flask import template_rendered

    from ldnsite import create_app

    app = create_app({**app_config, "CONTENT_DIR": str(content_copy)})
    client = app.test_client()
    rendered: list[str] = []

    def record(_app, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(record, app)
    try:
        for _ in range(3):
            assert client.get("/about").status_code == 200
        assert rendered.count("content/page.html") == 1
        path = content_copy / "about.md"
        path.write_text(path.read_text() + "\nOne more line.\n")
        assert b"One more line." in client.get("/about").data
        client.get("/about")
        assert rendered.count("content/page.html") == 2
    finally:
        template_rendered.disconnect(record, app)


def test_an_edit_within_the_same_clock_tick_is_still_seen(copy_client, content_copy):
    path = content_copy / "about.md"
    stamp = path.stat().st_mtime_ns
    assert b"Added in the same tick." not in copy_client.get("/about").data
    path.write_text(path.read_text() + "\nAdded in the same tick.\n")
    os.utime(path, ns=(stamp, stamp))  # as if both saves fell in one timestamp tick
    assert b"Added in the same tick." in copy_client.get("/about").data
