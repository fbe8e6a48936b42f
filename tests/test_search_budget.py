"""The forum pass stops at its budget: newest posts first, pages always searched in full, and the page says so."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ldnsite.db import utcnow
from tests.fixtures_search import urls


@pytest.fixture
def quokka_topics(forum_post):
    """Seven topics on one word, a day apart, oldest first."""
    start = utcnow() - timedelta(days=10)
    return [forum_post(f"Quokka number {n} says hello.", title=f"Quokka topic {n}", at=start + timedelta(days=n))
            for n in range(7)]


@pytest.fixture
def budget(app):
    def set_budget(matches: int) -> None:
        app.extensions["search"].match_budget = matches
        app.extensions["search"]._cache.clear()

    return set_budget


def newest(topics, n: int) -> set[str]:
    return {f"/forum/t/{t.topic_id}" for t in topics[-n:]}


def test_a_search_past_the_budget_shows_the_newest_matches_and_says_so(client, quokka_topics, budget, search_json):
    budget(4)
    result = search_json("quokka")
    assert result["more"] is True
    assert result["total"] == 4
    assert set(urls(result)) == newest(quokka_topics, 4)  # new posts live in the newest segments, searched first
    html = client.get("/search?q=quokka").get_data(as_text=True)
    assert "More than 4 results for" in html
    assert "only the most recent ones were searched" in html


def test_after_a_rebuild_the_newest_matches_still_come_first(app, quokka_topics, budget, search_json):
    with app.app_context():
        app.extensions["search_indexer"].rebuild()  # one segment, forum documents added newest first
    budget(3)
    result = search_json("quokka", sort="date")
    assert result["more"] is True
    assert urls(result) == [f"/forum/t/{t.topic_id}" for t in reversed(quokka_topics[-3:])]


def test_within_the_budget_the_count_is_exact(client, quokka_topics, budget, search_json):
    budget(50)
    result = search_json("quokka")
    assert result["more"] is False and result["total"] == 7
    assert "7 results for" in client.get("/search?q=quokka").get_data(as_text=True)


def test_pages_are_searched_in_full_when_the_forum_budget_runs_out(forum_post, budget, search_json):
    for n in range(5):
        forum_post(f"Pregabalin note {n}: dizzy in the morning.", title=f"Pregabalin diary {n}")
    budget(2)
    result = search_json("pregabalin")
    assert result["more"] is True
    assert urls(result)[0] == "/treatments/pregabalin"
    assert sum(r["kind"] == "topic" for r in result["results"]) == 2
    assert search_json("pregabalin", kind="pages")["more"] is False


def test_a_phrase_search_past_its_deadline_stops_and_says_so(app, forum_post):
    """The clock is checked inside the posting lists, so a phrase that rejects candidates stops on time too."""
    from ldnsite.search.collect import BudgetCollector, Deadline, timed
    from ldnsite.search.matchers import AndNot
    from ldnsite.search.query import QueryBuilder
    from ldnsite.search.querylang import parse
    from ldnsite.search.service import PAGE

    for n in range(3):
        forum_post(f"Vivid dreams on night {n}.", title=f"Dreams {n}")
    service = app.extensions["search"]
    with app.app_context(), service.pool.searcher() as searcher:
        query = AndNot(QueryBuilder(searcher, service.synonyms.get()).build(parse('"vivid dreams"')).query, PAGE)
        found = {}
        for label, seconds in (("in time", 10.0), ("expired", -1.0)):
            deadline = Deadline(seconds)
            collector = BudgetCollector.top(10, deadline)
            searcher.search_with_collector(timed(query, deadline), collector)
            found[label] = (collector.scored, collector.cut_short)
    assert found["in time"] == (3, False)
    scored, cut_short = found["expired"]
    assert cut_short and scored < 3  # at most the match found while the posting lists were opened


def test_a_search_that_stops_before_any_match_says_so(client, app, forum_post):
    for n in range(3):  # the two words never share a post, so looking for both means skipping ahead
        forum_post(f"Alpha note {n}.", title=f"First kind {n}")
        forum_post(f"Beta note {n}.", title=f"Second kind {n}")
    app.extensions["search"].time_budget = -1.0  # already past: the forum pass stops at its first step
    html = client.get("/search?q=alpha+beta&kind=forum").get_data(as_text=True)
    assert "0 results for" in html
    assert "The forum search stopped before it found a match" in html
    app.extensions["search"].time_budget = 10.0
    app.extensions["search"]._cache.clear()
    html = client.get("/search?q=alpha+beta&kind=forum").get_data(as_text=True)
    assert "stopped before" not in html and "these results match some of them" in html
