"""Readers' own words find the right page: run against the real pages in site/ and site/synonyms.txt."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures_search import urls

SITE = Path(__file__).resolve().parent.parent / "site"

LDN = "/treatments/low-dose-naltrexone"


pytestmark = [pytest.mark.read_only_index, pytest.mark.both_engines]


ME_CFS = "/conditions/me-cfs"


@pytest.mark.parametrize("query", ["ldn", "LDN", "low dose naltrexone", "low-dose naltrexone", "naltrexon", "naltrexone fibromyalgia"])
def test_ldn_queries_put_the_ldn_article_first(search_json, query):
    assert urls(search_json(query))[0] == LDN


@pytest.mark.parametrize(
    ("brand", "generic"),
    [
        ("Lyrica", "/treatments/pregabalin"),
        ("Cymbalta", "/treatments/duloxetine"),
        ("Savella", "/treatments/milnacipran"),
        ("Elavil", "/treatments/amitriptyline"),
        ("Neurontin", "/treatments/gabapentin"),
        ("lyrica", "/treatments/pregabalin"),
    ],
)
def test_brand_names_find_the_generic_page(search_json, brand, generic):
    assert urls(search_json(brand))[0] == generic


def test_tonmya_finds_the_page_about_cyclobenzaprine(search_json):
    found = urls(search_json("Tonmya"))
    if (SITE / "cyclobenzaprine.md").exists():
        assert found[0] == "/treatments/cyclobenzaprine"
    else:  # until it has a page of its own, the fibromyalgia page covers it
        assert found[0] == "/conditions/fibromyalgia"


@pytest.mark.parametrize(
    "query", ["CFS", "cfs", "ME", "ME/CFS", "me cfs", "chronic fatigue", "chronic fatigue syndrome", "myalgic encephalomyelitis"]
)
def test_me_cfs_words_find_the_me_cfs_page(search_json, query):
    assert urls(search_json(query))[0] == ME_CFS


@pytest.mark.parametrize("query", ["fibro", "fibromyalgia", "FM", "fibromyalga"])
def test_fibro_finds_fibromyalgia(search_json, query):
    assert urls(search_json(query))[0] == "/conditions/fibromyalgia"


def test_typo_is_searched_and_offered_as_did_you_mean(client, search_json):
    result = search_json("pregabalinn")
    assert urls(result)[0] == "/treatments/pregabalin"
    assert result["did_you_mean"] == "pregabalin"
    html = client.get("/search?q=naltrexon").get_data(as_text=True)
    assert "Did you mean" in html and 'href="/search?q=naltrexone' in html


def test_known_words_are_not_corrected(search_json):
    assert search_json("pregabalin")["did_you_mean"] is None


def test_did_you_mean_keeps_the_rest_of_the_query(search_json):
    assert search_json('duloxetin "side effects"')["did_you_mean"] == 'duloxetine "side effects"'


def test_phrase_in_quotes_matches_words_in_order_only(search_json):
    assert urls(search_json('"energy envelope"'))[0] == "/treatments/pacing"
    assert "/treatments/pacing" not in urls(search_json('"envelope energy"'))


def test_prefix_with_star(search_json):
    assert urls(search_json("amitrip*"))[0] == "/treatments/amitriptyline"
    assert "/treatments/milnacipran" in urls(search_json("milna*"))


def test_excluded_word(search_json):
    with_word = urls(search_json("fibromyalgia"))
    without = urls(search_json("fibromyalgia -pregabalin"))
    assert "/treatments/pregabalin" in with_word
    assert "/treatments/pregabalin" not in without


def test_every_word_is_required_before_falling_back_to_any(search_json):
    result = search_json("pregabalin zzqxv")
    assert result["any_words"] is True
    assert urls(result)[0] == "/treatments/pregabalin"


def test_snippets_mark_the_words_found(search_json):
    first = search_json("vivid dreams")["results"][0]
    assert first["url"] == LDN
    assert "<mark>vivid</mark>" in first["snippet_html"].lower()


def test_pages_filter_and_result_details(search_json):
    result = search_json("pregabalin", kind="pages")
    first = result["results"][0]
    assert first["kind"] == "page" and first["kind_label"] == "Treatment"
    assert first["conditions"] == ["Fibromyalgia"]
    assert first["date"]


@pytest.mark.parametrize(
    "query",
    [
        "does ldn help fibromyalgia",
        "does ldn work",
        "how long does ldn take to work",
        "low dose naltrexone for me",
        "can LDN help fibromyalgia",
    ],
)
def test_questions_find_the_ldn_article(search_json, query):
    result = search_json(query)
    assert urls(result)[0] == LDN
    assert result["total"] >= 1


def test_the_pronoun_me_is_not_the_illness(search_json):
    result = search_json("can ldn help me sleep")
    assert urls(result)[0] != ME_CFS
    assert all("<mark>me</mark>" not in r["snippet_html"].lower() for r in result["results"])


@pytest.mark.parametrize("query", ["tramadol", "codeine", "co-codamol", "morphine", "oxycodone"])
def test_opioid_names_lead_to_the_ldn_warning(search_json, query):
    assert urls(search_json(query))[0] == LDN


def test_gabapentin_finds_the_page_that_covers_it(search_json):
    expected = "/treatments/gabapentin" if (SITE / "gabapentin.md").exists() else "/treatments/pregabalin"
    assert urls(search_json("gabapentin"))[0] == expected


@pytest.mark.parametrize(
    ("query", "page"),
    [("cymbalta", "/treatments/duloxetine"), ("lyrica weight gain", "/treatments/pregabalin"), ('"4.5 mg"', LDN), ("4.5mg", LDN)],
)
def test_medicines_and_doses_as_readers_type_them(search_json, query, page):
    assert urls(search_json(query))[0] == page


def test_email_addresses_are_not_words(search_json):
    found = urls(search_json("ldn", kind="pages"))
    assert "/privacy" not in found  # it says "ldn" only in contact@ldn-guide.example
    # The accessibility statement names the site ("the LDN Guide website") once: it may match, never lead.
    assert "/accessibility" not in found[:3]
