"""The page format as a reader meets it: key facts, safety and review status before the contents list,
care cards with 111 and 999, research pages under their parent, the printable summary, citations that
link both ways. Fixture pages (tests/data/content) about a made-up medicine, so the clinical pages in
site/ can change freely.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ldnsite.content.store import ContentStore
from ldnsite.search.documents import page_document
from tests.test_content_pages import dom

FIXTURES = Path(__file__).resolve().parent / "data" / "content"
MEDICINE = "/treatments/testamol"
RESEARCH = "/treatments/testamol/research"


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "CONTENT_DIR": str(FIXTURES),
        "SITE_URL": "https://ldn.example",
        "TRUSTED_HOSTS": ["ldn.example", "localhost"],
    }  # the test client asks for localhost


def html(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def test_key_facts_safety_and_review_status_come_before_the_contents_list(client):
    text = html(client, MEDICINE)
    marks = ["<h1>", 'class="lede"', 'class="key-facts"', 'class="safety"', 'class="review-status"', 'class="contents"', 'class="prose"']
    positions = [text.index(m) for m in marks]
    assert positions == sorted(positions), dict(zip(marks, positions, strict=True))
    doc = dom(text.encode())
    facts = doc.find("section", cls="key-facts")
    assert [li.text.split(" Reference")[0] for li in facts.find("ul").find_all("li")][2] == "The most common side effect is feeling sick."
    assert "Low certainty" in facts.find("p", cls="evidence-rating").text
    assert "codeine" in doc.find("section", cls="safety").text
    status = doc.find("p", cls="review-status").text
    assert status == (
        "Reviewed 1 December 2026 by Editorial team; checked against the cited sources; "
        "not yet checked by a clinician; next review due 1 December 2027"
    )
    # The footer keeps the full review details as well.
    assert doc.find("div", cls="review-dates") is not None


def test_care_cards_name_their_level_to_screen_readers_and_give_111_and_999(client):
    doc = dom(html(client, MEDICINE).encode())
    cards = {c.attrs["class"].split()[1]: c for c in doc.find_all("div", cls="care-card")}
    assert set(cards) == {"care-card--non-urgent", "care-card--urgent", "care-card--emergency"}
    emergency = cards["care-card--emergency"]
    heading = emergency.find("h3", cls="care-card__title")
    assert heading.find("span", cls="visually-hidden").text == "Immediate action required:"
    assert "Call 999 or go to A&E now if:" in heading.text
    assert "local emergency number" in emergency.find("div", cls="care-card__content").text
    urgent_headings = [h.text for h in doc.find_all("h3", cls="care-card__title") + doc.find_all("h4", cls="care-card__title")]
    assert any(t.startswith("Urgent advice: Call 111") for t in urgent_headings), urgent_headings
    assert doc.find("h3", cls="care-card__title").find("span", cls="visually-hidden").text == "Non-urgent advice:"
    # A card under an H3 ("If you take too much") gets an H4, so the outline stays in order.
    assert "Call 111" in doc.find("h4", cls="care-card__title").text


def test_questions_render_in_their_section(client):
    doc = dom(html(client, MEDICINE).encode())
    questions = doc.find("ul", cls="questions")
    assert questions.find_all("li")[0].text == "Is testamol right for me?"


def test_research_page_lives_under_its_parent_with_breadcrumbs_back(client):
    doc = dom(html(client, RESEARCH).encode())
    assert doc.find("h1").text == "Testamol: the research in detail"
    crumbs = doc.find("nav", **{"aria-label": "Breadcrumb"}).find_all("a")
    assert [a.attrs["href"] for a in crumbs] == ["/", "/treatments/", MEDICINE]
    assert len(doc.find("section", cls="evidence").find("tbody").find_all("tr")) == 2
    parent = dom(html(client, MEDICINE).encode())
    assert RESEARCH in {a.attrs["href"] for a in parent.find("aside", cls="research-link").find_all("a")}
    assert "#research-link-heading" in {a.attrs["href"] for a in parent.find("nav", cls="contents").find_all("a")}


def test_old_flat_address_of_a_research_page_redirects_instead_of_serving_a_copy(client):
    response = client.get("/treatments/testamol-research")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(RESEARCH)
    assert client.get("/treatments/testamol-research/summary").status_code == 404
    assert client.get("/treatments/test-pain/research").status_code == 404
    assert client.get("/treatments/no-such-page/research").status_code == 404


def test_listings_sitemap_feed_and_search_use_the_research_address(client):
    treatments = {a.attrs["href"] for a in dom(client.get("/treatments/").data).find("main").find_all("a")}
    assert MEDICINE in treatments and "/treatments/testamol-research" not in treatments
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    feed = client.get("/feed.xml").get_data(as_text=True)
    for text in (sitemap, feed):
        assert "https://ldn.example" + RESEARCH in text
        assert "/treatments/testamol-research<" not in text and '/treatments/testamol-research"' not in text
    store = ContentStore(FIXTURES)
    assert store.get("testamol-research").url == RESEARCH  # search results take their addresses from the store
    # Indexed text has the words, not the citation numbers.
    body = page_document(store, store.get("testamol"))["body"]
    assert "testamol helped a little. We cannot be sure." in body
    assert "Reference 1" not in body and "[1]" not in body


def test_printable_summary_has_what_a_doctor_visit_needs(client):
    text = html(client, MEDICINE + "/summary")
    doc = dom(text.encode())
    source = doc.find("p", cls="summary-source").text
    assert "LDN Guide" in source and "https://ldn.example/treatments/testamol" in source
    assert doc.find("p", cls="review-status").text.startswith("Reviewed 1 December 2026 by Editorial team")
    assert len(doc.find("section", cls="key-facts").find("ul").find_all("li")) == 4
    assert "codeine" in doc.find("section", cls="safety").text
    questions = doc.find("section", cls="summary-questions").find("ol").find_all("li")
    assert [q.find("span", cls="question").text for q in questions] == [
        "Is testamol right for me?",
        "How long should I take it before we decide if it works?",
    ]
    assert all(q.find("span", cls="note-lines") is not None for q in questions)
    # No citation numbers or raw keys: the summary has no reference list to point to.
    assert "[@" not in text and 'class="cite' not in text and "#ref-" not in text
    # Reached from the page itself, and for condition pages too; not for pages without key facts.
    assert MEDICINE + "/summary" in html(client, MEDICINE)
    assert "Test pain" in html(client, "/conditions/test-pain/summary")
    assert client.get("/treatments/no-such-page/summary").status_code == 404


def test_each_citation_group_is_one_link_and_each_reference_links_back(client):
    doc = dom(html(client, MEDICINE).encode())
    groups = doc.find_all("sup", cls="cite")
    ids = [g.find("a").attrs["id"] for g in groups]
    assert ids == [f"cite-{n}" for n in range(1, len(groups) + 1)]
    assert all(len(g.find_all("a")) == 1 for g in groups), "one tab stop per citation group"
    pair = next(g for g in groups if "References" in g.text)
    assert pair.find("span", cls="visually-hidden").text == "References 1 and 2"
    assert pair.find("a").attrs["href"] == "#ref-1"
    refs = doc.find("section", cls="references").find("ol").find_all("li")
    # Reference 1 is first cited in the first key fact, reference 2 in the second.
    assert [li.find("a", cls="ref-back").attrs["href"] for li in refs] == ["#cite-1", "#cite-2"]
    assert refs[1].find("a", cls="ref-link").attrs["href"] == "https://www.nice.org.uk/guidance/ng999"
    assert "Recommendation 1.2.8." in refs[1].text


def test_reference_authors_never_end_in_a_double_full_stop(client):
    text = html(client, MEDICINE)
    assert "et al.." not in text
    assert re.search(r"Smith J, Jones K, et al\. A trial of testamol\.", text)


def test_page_tags_and_related_pages_never_name_the_page_itself(client):
    condition = dom(html(client, "/conditions/test-pain").encode())
    assert condition.find("p", cls="page-tags") is None, "the condition page is not 'About:' itself"
    medicine = dom(html(client, MEDICINE).encode())
    related = [a.attrs["href"] for a in medicine.find("nav", cls="related").find_all("a")]
    assert MEDICINE not in related and len(related) == len(set(related))


def test_print_masthead_and_links_carry_full_addresses(client):
    doc = dom(html(client, RESEARCH).encode())
    assert doc.find("p", cls="print-masthead").text == "LDN Guide · https://ldn.example" + RESEARCH
    parent_link = doc.find("p", cls="page-parent").find("a")
    assert parent_link.attrs["data-print-url"] == "https://ldn.example" + MEDICINE


def test_evidence_table_has_a_certainty_column_and_labels_for_phone_cards(client):
    table = dom(html(client, MEDICINE).encode()).find("table", cls="evidence-table")
    assert [th.text for th in table.find("thead").find_all("th")][-1] == "Certainty"
    first = table.find("tbody").find_all("tr")[0]
    cells = first.find_all("td")
    assert cells[-1].text == "Certainty: Low"
    assert all(td.find("span", cls="cell-label") is not None for td in cells)
