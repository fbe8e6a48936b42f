"""The /search page as a reader meets it: headings, filters, paging, JSON, OpenSearch, escaping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ldnsite.db import utcnow
from tests.fixtures_search import urls

pytestmark = pytest.mark.both_engines


def text(response) -> str:
    return response.get_data(as_text=True)


def test_empty_query_shows_the_search_page_with_a_form(client):
    response = client.get("/search")
    html = text(response)
    assert response.status_code == 200
    assert "<h1>Search</h1>" in html
    assert 'name="q"' in html and 'id="search-q"' in html
    assert "<title>Search – " in html


def test_count_and_query_in_heading_and_title(client):
    html = text(client.get("/search?q=lyrica"))
    assert "<title>" in html and "for “lyrica”" in html.split("<title>")[1].split("</title>")[0]
    heading = html.split('<h1 class="search-heading">')[1].split("</h1>")[0]
    assert "results for <q>lyrica</q>" in heading or "result for <q>lyrica</q>" in heading
    assert heading.split(" ")[0].isdigit()
    # one search box on the results page, keeping the query: the header's is left out there
    assert 'id="header-search-q"' not in html and html.count('type="search"') == 1
    assert 'value="lyrica"' in html.split('id="search-q"')[1].split(">")[0]


def test_each_result_is_a_heading_link_with_kind_condition_and_date(client):
    html = text(client.get("/search?q=pregabalin&kind=pages"))
    first = html.split('<li class="search-result">')[1]
    assert '<h2 class="search-result-heading"><a href="/treatments/pregabalin">' in first
    assert "Treatment" in first and "Fibromyalgia" in first and "<time datetime=" in first
    assert "<mark>" in first


def test_no_results_offers_suggestions_and_useful_pages(client):
    html = text(client.get("/search?q=qqqzzzxxv"))
    assert "0 results for <q>qqqzzzxxv</q>" in html
    assert "Suggestions" in html
    assert 'href="/treatments/low-dose-naltrexone"' in html.split("Pages people find most useful")[1]


def test_bad_kind_is_refused_clearly(client):
    response = client.get("/search?q=ldn&kind=everything%3Cscript%3E")
    assert response.status_code == 400
    assert "Choose where to search" in text(response)
    assert "<script>" not in text(response)
    json_response = client.get("/search?q=ldn&kind=nope&format=json")
    assert json_response.status_code == 400 and "error" in json_response.get_json()


@pytest.mark.parametrize("page", ["0", "-3", "abc", "", "1e9", "99999999999999999999"])
def test_bad_page_numbers_are_clamped(search_json, page):
    result = search_json("fibromyalgia", page=page)
    assert result["page"] >= 1 and result["results"]


def test_pagination_pages_through_forum_results(client, forum_post, search_json):
    start = utcnow() - timedelta(days=30)
    refs = [forum_post(f"Quokka number {n} says hello.", title=f"Quokka topic {n}", at=start + timedelta(hours=n)) for n in range(23)]
    first = search_json("quokka")
    assert first["total"] == 23 and first["pages"] == 3 and len(first["results"]) == 10
    third = search_json("quokka", page=3)
    assert len(third["results"]) == 3
    everything = set(urls(first)) | set(urls(search_json("quokka", page=2))) | set(urls(third))
    assert everything == {f"/forum/t/{r.topic_id}" for r in refs}
    beyond = search_json("quokka", page=40)
    assert beyond["page"] == 3
    html = text(client.get("/search?q=quokka&page=2"))
    assert 'rel="prev"' in html and 'rel="next"' in html and "Page 2 of 3" in html


def test_kind_filter_and_date_sort(forum_post, search_json):
    old = forum_post("Pregabalin made me dizzy at first.", title="Pregabalin dizziness", at=utcnow() - timedelta(days=9))
    new = forum_post("Pregabalin and sleep: better after a week.", title="Pregabalin sleep", at=utcnow())
    forum = search_json("pregabalin", kind="forum", sort="date")
    assert urls(forum) == [f"/forum/t/{new.topic_id}", f"/forum/t/{old.topic_id}"]
    pages = search_json("pregabalin", kind="pages")
    assert all(r["kind"] == "page" for r in pages["results"])
    everything = search_json("pregabalin")
    assert {"page", "topic"} <= {r["kind"] for r in everything["results"]} or everything["total"] > len(pages["results"])


def test_replies_are_results_of_their_own(forum_post, search_json):
    topic = forum_post("Starting out.", title="Week one")
    reply = forum_post("The wombat trick helped my sleep.", topic_id=topic.topic_id)
    result = search_json("wombat")
    assert urls(result) == [f"/forum/t/{topic.topic_id}#post-{reply.post_id}"]
    assert result["results"][0]["kind"] == "post" and "Week one" in result["results"][0]["title"]


def test_json_returns_the_same_results_as_the_page(client, search_json):
    result = search_json("fibro")
    html = text(client.get("/search?q=fibro"))
    in_page = [chunk.split('"')[0] for chunk in html.split('<h2 class="search-result-heading"><a href="')[1:]]
    assert in_page == urls(result)
    assert result["total"] >= len(result["results"]) > 0


def test_highlighted_snippet_escapes_post_html(client, forum_post):
    forum_post("<script>alert('x')</script> capybara <b>bold</b> & friends", title="Capybara")
    html = text(client.get("/search?q=capybara&kind=forum"))
    assert "<mark>capybara</mark>" in html.lower()
    assert "<script>alert" not in html
    assert "alert(&#39;x&#39;)" in html or "alert(&#x27;x&#x27;)" in html or "alert(" not in html


def test_query_is_never_reflected_unescaped(client):
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    for params in ({}, {"format": "json"}):
        response = client.get("/search", query_string={"q": hostile, **params})
        body = text(response)
        assert response.status_code == 200
        assert "<script>alert(1)" not in body and "<img src=x" not in body


def test_opensearch_description(client):
    response = client.get("/opensearch.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/opensearchdescription+xml"
    body = text(response)
    assert "<ShortName>" in body and 'template="http://localhost/search?q={searchTerms}"' in body


def test_one_result_is_singular_and_json_agrees_with_the_page(client, forum_post, search_json):
    forum_post("A lone axolotl post.", title="Axolotl")
    html = text(client.get("/search?q=axolotl"))
    assert "1 result for <q>axolotl</q>" in html
    result = search_json("axolotl")
    assert result["total"] == 1 and result["pages"] == 1 and len(result["results"]) == 1
