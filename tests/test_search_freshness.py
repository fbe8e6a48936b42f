"""Freshness and safety: nothing lost between commit and index, nothing hidden ever shown."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from ldnsite.db import get_session, utcnow
from ldnsite.search.models import SearchOutbox
from tests.fixtures_search import index_keys, urls

pytestmark = pytest.mark.both_engines
NO_OUTBOX_LAG = "the postgres engine writes documents in the changing transaction: no outbox to apply"


@pytest.fixture
def app_config(app_config):
    # No sync before searches here, so each test decides exactly when the outbox is applied.
    return {**app_config, "SEARCH_SYNC_INTERVAL": 0}


def outbox_count(app) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count(SearchOutbox.id)))


def test_new_post_is_searchable_right_after_commit(forum_post, search_json):
    ref = forum_post("Numbat tips for sleep.", title="Numbat")
    assert urls(search_json("numbat")) == [f"/forum/t/{ref.topic_id}"]


@pytest.mark.whoosh_only(reason=NO_OUTBOX_LAG)
def test_commit_without_index_update_loses_nothing(app, forum_post, search_json):
    search_json("warm-up")  # the index exists before the change
    app.config["SEARCH_INDEX_ON_COMMIT"] = False
    ref = forum_post("Axolotl dosing notes.", title="Axolotl")
    assert search_json("axolotl")["total"] == 0  # not applied yet
    result = app.test_cli_runner().invoke(args=["index", "sync"])
    assert result.exit_code == 0, result.output
    assert "applied 2 outbox rows" in result.output
    assert urls(search_json("axolotl")) == [f"/forum/t/{ref.topic_id}"]


@pytest.mark.whoosh_only(reason=NO_OUTBOX_LAG)
def test_process_killed_between_commit_and_index_update(app, run_node, search_json):
    search_json("warm-up")
    node = run_node("die-after-commit", "pangolin")
    assert node.wait(60) == 0
    assert search_json("pangolin")["total"] == 0  # committed, but the process died before indexing
    assert outbox_count(app) == 2
    result = app.test_cli_runner().invoke(args=["index", "sync"])
    assert result.exit_code == 0, result.output
    assert search_json("pangolin")["total"] == 1


def test_removed_post_is_never_shown_even_when_the_index_lags(app, forum_post, set_status, search_json, client):
    topic = forum_post("Introductions.", title="Hello all")
    reply = forum_post("Okapi advice that a moderator will remove.", topic_id=topic.topic_id)
    assert search_json("okapi")["total"] == 1
    set_status("post", reply.post_id, "removed", enqueue_it=False)  # the index is now deliberately stale
    with app.app_context():
        assert f"post:{reply.post_id}" in index_keys(app)
    assert search_json("okapi")["results"] == []
    assert "Okapi advice" not in client.get("/search?q=okapi").get_data(as_text=True)


def test_removed_topic_hides_its_replies_even_when_the_index_lags(app, forum_post, set_status, search_json):
    topic = forum_post("Tapir opening post.", title="Tapir thread")
    forum_post("Tapir reply.", topic_id=topic.topic_id)
    assert search_json("tapir")["total"] == 2
    set_status("topic", topic.topic_id, "removed", enqueue_it=False)
    assert search_json("tapir")["results"] == []


def test_removed_opening_post_text_is_not_used_for_the_snippet(forum_post, set_status, search_json):
    topic = forum_post("Secret ibex words.", title="Ibex question")
    set_status("post", topic.post_id, "removed", enqueue_it=False)
    result = search_json("ibex")
    assert urls(result) == [f"/forum/t/{topic.topic_id}"]  # the topic itself is still published
    assert "Secret" not in result["results"][0]["snippet_html"]


def test_pending_posts_appear_only_once_approved(app, forum_post, set_status, search_json):
    topic = forum_post("Starting.", title="Week one")
    held = forum_post("Dugong thoughts waiting for a moderator.", topic_id=topic.topic_id, status="pending")
    assert search_json("dugong")["total"] == 0
    with app.app_context():
        assert f"post:{held.post_id}" not in index_keys(app)
    set_status("post", held.post_id, "published")
    assert search_json("dugong")["total"] == 1


def test_remove_and_restore_through_the_outbox(app, forum_post, set_status, search_json):
    search_json("warm-up")  # the index exists, so commits update it
    topic = forum_post("Starting.", title="Week two")
    reply = forum_post("Kakapo reply.", topic_id=topic.topic_id)
    set_status("post", reply.post_id, "removed")
    with app.app_context():
        assert f"post:{reply.post_id}" not in index_keys(app)
    set_status("post", reply.post_id, "published")
    assert search_json("kakapo")["total"] == 1


@pytest.mark.whoosh_only(reason="index generations are Whoosh's; test_search_engines covers a postgres rebuild")
def test_rebuild_swaps_in_a_new_index_while_searches_continue(app, forum_post, search_json):
    forum_post("Quoll facts.", title="Quoll")
    assert search_json("quoll")["total"] == 1  # builds the first index
    service, indexer = app.extensions["search"], app.extensions["search_indexer"]
    failures: list[BaseException] = []
    counts: list[int] = []
    stop = threading.Event()

    def search_loop() -> None:
        with app.app_context():
            while not stop.is_set():
                try:
                    service._cache.clear()
                    counts.append(service.search("quoll").total)
                except BaseException as exc:  # noqa: BLE001
                    failures.append(exc)

    with app.app_context():
        first = indexer.store.live().name
        threads = [threading.Thread(target=search_loop) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            names = [indexer.rebuild()["generation"] for _ in range(3)]
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        assert not failures, failures[:3]
        assert counts and set(counts) == {1}
        assert indexer.store.live().name == names[-1] != first
        remaining = {p.name for p in indexer.store.root.glob("gen-*")}
        assert remaining == {names[-1], names[-2]}  # the one replaced is kept for searches still using it


def test_concurrent_writers_in_threads_lose_no_update(app, forum_post, search_json):
    search_json("warm-up")
    errors: list[BaseException] = []

    def write(word: str) -> None:
        try:
            for n in range(8):
                forum_post(f"{word} note {n}.", title=f"{word} {n}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in ("wallaby", "bilby")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert search_json("wallaby")["total"] == 8
    assert search_json("bilby")["total"] == 8
    with app.app_context():
        assert app.extensions["search_indexer"].status().get("outbox_pending", 0) == 0


def test_concurrent_writer_processes_lose_no_update(app, run_node, search_json):
    search_json("warm-up")
    nodes = [run_node("write", word, count=6) for word in ("echidna", "platypus")]
    assert [n.wait(120) for n in nodes] == [0, 0]
    assert search_json("echidna")["total"] == 6
    assert search_json("platypus")["total"] == 6


@pytest.mark.whoosh_only(reason="no per-node index on the postgres engine; test_search_engines has two nodes")
def test_every_node_applies_every_outbox_row(app, app_config, tmp_path, forum_post, search_json):
    from ldnsite import create_app

    other = create_app({**app_config, "INDEX_DIR": str(tmp_path / "node2-index")})
    with other.app_context():
        other.extensions["search_indexer"].rebuild()
    forum_post("Kiwi on node one.", title="Kiwi")  # node one applies it after the commit
    assert search_json("kiwi")["total"] == 1
    assert outbox_count(app) == 2  # still there for the other node
    with other.app_context():
        assert other.extensions["search"].search("kiwi").total == 0
        assert other.extensions["search_indexer"].sync() == 2
        assert other.extensions["search"].search("kiwi").total == 1
    other.extensions["db_engine"].dispose()


def test_another_node_picks_up_changes_on_its_next_search(app, app_config, tmp_path, forum_post):
    from ldnsite import create_app

    other = create_app({**app_config, "INDEX_DIR": str(tmp_path / "node2-index"), "SEARCH_SYNC_INTERVAL": 1e-6})
    other_client = other.test_client()
    assert other_client.get("/search?q=wombat&format=json").get_json()["total"] == 0  # builds node two's index
    forum_post("Wombat on node one.", title="Wombat")
    assert other_client.get("/search?q=wombat&format=json").get_json()["total"] == 1
    other.extensions["db_engine"].dispose()


@pytest.mark.whoosh_only(reason=NO_OUTBOX_LAG)
def test_old_applied_rows_are_pruned_and_unapplied_rows_kept(app, forum_post, search_json):
    search_json("warm-up")
    forum_post("Applied long ago.", title="Old")
    app.config["SEARCH_INDEX_ON_COMMIT"] = False
    forum_post("Not applied yet.", title="Pending")
    with app.app_context():
        session = get_session()
        session.execute(update(SearchOutbox).values(created_at=utcnow() - timedelta(days=30)))
        session.commit()
        indexer = app.extensions["search_indexer"]
        assert indexer.prune_outbox() == 0  # nothing is pruned that this index has not applied
        assert outbox_count(app) == 4
        assert indexer.sync() == 2  # applies the rest
        assert indexer.prune_outbox() == 4  # now every row is old and applied here
    assert outbox_count(app) == 0
