"""Judged relevance on a small generated forum (bench/search_corpus.py): every query of the evaluation, fast.

The same corpus and judgments run at 100,000 and 300,000 posts in `make bench`; here 1,500 posts keep
the module to seconds. What a reader would notice: the answering page first, old answers found as
well as new ones, nothing hidden shown, honest counts and stable pages.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from bench.search_corpus import NOW, Forum, hidden_keys, hide, load
from bench.search_judgments import QUERIES, Scores, judgments, score

POSTS = 1500
MISSPELT_TITLES = 12


@pytest.fixture(scope="module", params=["whoosh", "postgres"])
def corpus(request):
    """The judged forum on SQLite with Whoosh, and on PostgreSQL with the PostgreSQL engine."""
    from ldnsite import create_app, models_registry
    from ldnsite.db import Base

    models_registry.import_all()
    folder = Path(tempfile.mkdtemp(prefix="search-eval-"))
    database, schema = {"DATABASE_URL": f"sqlite:///{folder / 'eval.db'}"}, None
    if request.param == "postgres":
        schema, database = postgres_schema()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            **database,
            "SEARCH_BACKEND": request.param,
            "INDEX_DIR": str(folder / "index"),
            "SEARCH_INDEX_ON_COMMIT": False,
            "SEARCH_SYNC_INTERVAL": 0,
            "RATELIMIT_ENABLED": False,
            "MAIL_URL": f"file:{folder / 'outbox'}",
        }
    )
    Base.metadata.create_all(app.extensions["db_engine"])
    if schema:
        from ldnsite.search import pg_tables

        pg_tables.metadata.create_all(app.extensions["db_engine"])
    forum = Forum(POSTS)
    for n in range(MISSPELT_TITLES):  # a misspelling several readers made, in titles
        tid = len(forum.topics) + 1
        when = NOW - timedelta(days=n * 30)
        forum.topics.append(
            {"id": tid, "title": f"Fibromialgia question {n}", "status": "published", "created_at": when, "last_activity_at": when}
        )
        forum._post(tid, "Does anyone else get this with fibromialgia?", "published", when)
    load(forum, app.extensions["db_engine"])
    with app.app_context():
        app.extensions["search_indexer"].rebuild()
    hide(forum, app.extensions["db_engine"])
    yield app, forum
    app.extensions["search"].engine.close()
    app.extensions["db_engine"].dispose()
    if schema:
        drop_schema(schema)


def postgres_schema() -> tuple[str, dict]:
    import uuid

    from sqlalchemy import create_engine, text

    from tests.conftest import PG_URL, _postgres_reachable

    if not _postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    schema = "t_eval_" + uuid.uuid4().hex[:10]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    return schema, {"DATABASE_URL": PG_URL, "DATABASE_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}}}


def drop_schema(schema: str) -> None:
    from sqlalchemy import create_engine, text

    from tests.conftest import PG_URL

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def clear_caches(app) -> None:
    """Empty the result cache and the engine's own (posting lists, or counts and spellings)."""
    service = app.extensions["search"]
    service._cache.clear()
    engine = service.engine
    if hasattr(engine, "postings"):
        engine.postings.clear()
    else:
        engine.clear_caches()


@pytest.fixture(scope="module")
def ask(corpus):
    app, _forum = corpus
    client = app.test_client()

    def run(q: str, **params) -> dict:
        response = client.get("/search", query_string={"q": q, "format": "json", **params})
        assert response.status_code == 200
        return response.get_json()

    return run


def keys(result: dict, pages: dict[str, str]) -> list[str]:
    out = []
    for r in result["results"]:
        url = r["url"]
        if r["kind"] == "page":
            out.append(pages[url])
        elif "#post-" in url:
            out.append("post:" + url.rsplit("-", 1)[1])
        else:
            out.append("topic:" + url.rsplit("/", 1)[1])
    return out


@pytest.fixture(scope="module")
def judged(corpus):
    app, forum = corpus
    store = app.extensions["content"]
    return judgments(forum, {p.slug for p in store.all()}), {p.url: f"page:{p.slug}" for p in store.all()}


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.group}:{q.text}")
def test_each_judged_query(query, ask, judged, corpus):
    """Answering page first; no hidden post; at least one judged answer in the top 10 when there is one."""
    table, pages = judged
    grades, _old, page_key = table[query.text]
    found = keys(ask(query.text, kind=query.kind), pages)
    assert not set(found) & hidden_keys(corpus[1])
    if page_key:
        assert found and found[0] == page_key, found[:5]
    if grades:
        assert set(found[:10]) & set(grades), (found[:10], grades)


def test_overall_quality_and_old_answers(ask, judged, corpus):
    table, pages = judged
    scores = Scores()
    for query in QUERIES:
        grades, old, page_key = table[query.text]
        score(scores, keys(ask(query.text, kind=query.kind), pages), grades, old, page_key, hidden_keys(corpus[1]))
    ndcg = sum(scores.ndcg) / len(scores.ndcg)
    assert ndcg >= 0.75, ndcg
    assert scores.old_found >= 0.7 * scores.old_total, (scores.old_found, scores.old_total)
    assert scores.leaked == 0
    assert scores.zero == 0


def test_a_question_with_few_matching_posts_shows_them_all(ask, judged):
    table, pages = judged
    grades, _old, _page = table["how long does ldn take to work"]
    result = ask("how long does ldn take to work", kind="forum")
    full = {k for k, g in grades.items() if g == 3 and not k.startswith("page:")}  # answers using every word
    assert full <= set(keys(result, pages)[:10])
    assert result["full_matches"] >= 1


def test_hashimoto_ldn_finds_its_answers_old_and_new(ask, judged):
    table, pages = judged
    grades, old, _page = table["hashimoto ldn"]
    top = set(keys(ask("hashimoto ldn"), pages)[:10])
    assert {k for k, g in grades.items() if g == 3} <= top
    assert old & top


def test_a_misspelling_common_in_titles_still_gets_did_you_mean(ask, judged):
    _table, pages = judged
    result = ask("fibromialgia")
    assert result["did_you_mean"] == "fibromyalgia"
    assert keys(result, pages)[0] == "page:fibromyalgia"


def test_counts_are_exact_and_paging_is_consistent(ask):
    first = ask("ldn sleep")
    assert first["total"] > 30 and first["pages"] == min(20, -(-first["total"] // 10))
    seen: list[str] = []
    for page in range(1, 4):
        result = ask("ldn sleep", page=page)
        assert result["page"] == page and result["total"] == first["total"]
        seen += [r["url"] for r in result["results"]]
    assert len(seen) == len(set(seen)) == 30  # no result on two pages, and ten on each


def test_the_same_query_gives_the_same_results(corpus, ask):
    app, _forum = corpus
    runs = []
    for _ in range(5):
        clear_caches(app)
        runs.append([r["url"] for r in ask("pain", kind="forum")["results"]])
    assert all(run == runs[0] for run in runs)


def test_old_answers_rank_as_well_as_new_unless_sorted_by_date(ask, judged):
    table, pages = judged
    _grades, old, _page = table["ldn insomnia"]
    assert old <= set(keys(ask("ldn insomnia"), pages)[:10])
    by_date = ask("ldn insomnia", sort="date", kind="forum")["results"]
    dates = [r["date"] for r in by_date]
    assert dates == sorted(dates, reverse=True)


def test_a_page_typed_past_the_end_shows_the_last_page(ask):
    last = ask("hashimoto ldn", page=20)
    assert last["page"] == last["pages"] and last["results"]


def test_postgres_ranks_only_rows_that_can_win_with_the_same_results(corpus, monkeypatch):
    """The PostgreSQL engine skips rows too long to reach the page (pg_engine.py): readers get the same pages.

    Each judged query, pages 1 to 3, with the bounds on for every row count, with a guessed floor that always
    misses (so the floor comes from the short rows), and with every matching row ranked: same counts, same order.
    """
    app, _forum = corpus
    if app.config["SEARCH_BACKEND"] != "postgres":
        pytest.skip("the bounded ranking is the PostgreSQL engine's")
    from ldnsite.search import pg_engine

    service = app.extensions["search"]

    def results() -> list:
        with app.app_context():
            return [
                (q.text, page, outcome.total, outcome.full, [(h.kind, h.ref) for h in outcome.hits])
                for q in QUERIES
                for page in (1, 2, 3)
                for outcome in [service.search(q.text, kind=q.kind, page=page)]
            ]

    monkeypatch.setattr(pg_engine, "BOUND_FROM", 0)
    bounded = results()
    monkeypatch.setattr(pg_engine, "GUESS", 1.0)
    seeded = results()
    monkeypatch.setattr(pg_engine, "BOUND_FROM", 10**9)
    monkeypatch.setattr(pg_engine, "MAX_COMBINATIONS", 0)
    monkeypatch.setattr(pg_engine.PgSnapshot, "_one_word", lambda *_args: None)
    everything = results()
    assert sum(1 for r in everything if r[2]) > 150  # the queries find things
    assert bounded == everything
    assert seeded == everything
