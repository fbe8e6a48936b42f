"""Index faults: no request builds an index, a full disk loses nothing, damage is found and repaired.

Real parts throughout: the Whoosh index on disk, a small tmpfs for the full
disk (mounted for the test when the machine allows it, as root), a rebuild
process killed with SIGKILL, and gunicorn with two workers.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ldnsite.search import repair
from tests.fixtures_search import urls

ROOT = Path(__file__).resolve().parent.parent
BOUND = 120  # seconds: how long a failing test may take, never a measurement


@pytest.fixture
def app_config(app_config, small_site):
    return {**app_config, "CONTENT_DIR": str(small_site), "SEARCH_REQUEST_WAITS_FOR_BUILD": False, "SEARCH_SYNC_INTERVAL": 0.001}


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["index", *args])


def indexer(app):
    return app.extensions["search_indexer"]


def wait_for_repair(app) -> None:
    thread = repair.get(app)._thread
    if thread is not None:
        thread.join(BOUND)
        assert not thread.is_alive()


def test_a_search_without_index_answers_503_at_once_while_one_background_rebuild_restores_it(app, client, forum_post):
    store = indexer(app).store
    with store.rebuild_lock():  # a rebuild is running in another process
        response = client.get("/search", query_string={"q": "zorblax"})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert "Search is being rebuilt" in response.get_data(as_text=True)
        as_json = client.get("/search", query_string={"q": "zorblax", "format": "json"})
        assert as_json.status_code == 503 and as_json.get_json()["retry_after"] == 30
        wait_for_repair(app)  # it saw the lock held and did not start a second build
        assert store.live() is None and list(store.root.glob("gen-*")) == []
        assert client.get("/").status_code == 200  # pages keep working
        refs = forum_post("Quokka notes while the index was away.", title="Quokka")
    response = client.get("/search", query_string={"q": "zorblax"})  # the lock is free: this one asks for the build
    assert response.status_code == 503
    wait_for_repair(app)
    found = client.get("/search", query_string={"q": "quokka", "format": "json"}).get_json()
    assert urls(found) == [f"/forum/t/{refs.topic_id}"]  # the post made meanwhile is findable


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


@pytest.mark.parametrize("part", ["segment", "toc"])
def test_a_truncated_index_is_reported_answers_503_and_ensure_repairs_it(app, client, forum_post, part, caplog):
    assert cli(app, "ensure").exit_code == 0
    forum_post("Wombat burrows.", title="Wombat")
    gen = indexer(app).store.live()
    _truncate(next(gen.path.glob("*.seg" if part == "segment" else "*.toc")))

    status = cli(app, "status")
    assert status.exit_code == 1, status.output
    assert "health: the index cannot be read" in status.output
    assert "index ensure" in status.output

    with caplog.at_level(logging.ERROR, logger="ldnsite.search"):
        response = client.get("/search", query_string={"q": "wombat"})
    assert response.status_code == 503  # not a 500
    assert "the index is damaged" in caplog.text
    wait_for_repair(app)  # the background repair already fixes it; ensure must see it whole again

    _truncate(next(indexer(app).store.live().path.glob("*.seg" if part == "segment" else "*.toc")))
    result = cli(app, "ensure")
    assert result.exit_code == 0 and result.output.startswith("rebuilt: the index cannot be read"), result.output
    assert "health: ok" in cli(app, "status").output
    assert client.get("/search", query_string={"q": "wombat", "format": "json"}).get_json()["total"] == 1


def test_an_index_missing_documents_is_reported_and_ensure_rebuilds_it(app, forum_post):
    assert cli(app, "ensure").exit_code == 0
    refs = forum_post("Numbat diary.", title="Numbat")
    ix = indexer(app).store.live().open()
    writer = ix.writer()
    writer.delete_by_term("key", f"topic:{refs.topic_id}")  # lost without the outbox knowing
    writer.commit()

    status = cli(app, "status")
    assert status.exit_code == 1
    assert "health: the index holds 2 documents, the database 3" in status.output
    result = cli(app, "ensure")
    assert result.output.startswith("rebuilt: the index holds 2 documents, the database 3"), result.output
    assert "health: ok" in cli(app, "status").output


KILLED_REBUILD = r"""
import json, os, signal, sys
from ldnsite import create_app
import ldnsite.search.indexer as indexer_module

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)  # mid-build: the new folder exists, nothing is finished
    yield

indexer_module.forum_documents = killed
app = create_app(json.loads(sys.argv[1]))
with app.app_context():
    app.extensions["search_indexer"].rebuild()
"""


def test_a_killed_rebuild_leaves_folders_that_status_shows_and_the_next_build_removes(app, app_config, client):
    assert cli(app, "ensure").exit_code == 0
    live = indexer(app).store.live().name
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_REBUILD, json.dumps(app_config)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=BOUND
    )
    assert proc.returncode == -signal.SIGKILL
    leftovers = [p.name for p in indexer(app).store.root.glob("gen-*") if p.name != live]
    assert len(leftovers) == 1
    assert f"unfinished_generations: {leftovers[0]}" in cli(app, "status").output
    result = cli(app, "ensure")
    assert f"removed unfinished {leftovers[0]}" in result.output
    assert [p.name for p in indexer(app).store.root.glob("gen-*")] == [live]
    # and a rebuild removes them too
    subprocess.run(
        [sys.executable, "-c", KILLED_REBUILD, json.dumps(app_config)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=BOUND
    )
    assert cli(app, "rebuild").exit_code == 0
    assert len(list(indexer(app).store.root.glob("gen-*"))) == 2  # the new one and the one it replaced


# ---- a full disk -------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB tmpfs: room for the test index, and a disk that can really fill up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the full-disk test needs a real full file system")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"this machine does not allow mounting a tmpfs: {result.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_keeps_posts_waiting_cleans_up_and_recovers_when_space_returns(app, client, forum_post, small_disk, caplog):
    from ldnsite.search.storage import IndexStore

    ix = indexer(app)  # the same app, its index moved onto the small disk
    ix.store = IndexStore(small_disk / "index")
    app.extensions["search"].pool.store = ix.store
    ix.rebuild()
    gen = ix.store.live()
    before = sorted(p.name for p in gen.path.iterdir())
    filler = fill(small_disk)

    with caplog.at_level(logging.ERROR, logger="ldnsite.search"):
        made = [forum_post(f"Bandicoot sighting {n}.", title=f"Bandicoot {n}") for n in range(5)]
    assert "index commit failed" in caplog.text and "No space left on device" in caplog.text
    assert sorted(p.name for p in gen.path.iterdir()) == before  # no partial files kept
    status = cli(app, "status").output
    assert "outbox_pending: 10" in status  # a topic and a post row for each
    assert "last_commit_failure:" in status and "No space left on device" in status

    filler.unlink()  # space returns: the next search's sync applies everything waiting
    found = client.get("/search", query_string={"q": "bandicoot", "format": "json"}).get_json()
    assert sorted(r["url"] for r in found["results"]) == sorted(f"/forum/t/{m.topic_id}" for m in made)
    status = cli(app, "status").output
    assert "outbox_pending: 0" in status and "last_commit_failure: none" in status
    assert "health: ok" in status


def test_gunicorn_workers_never_build_in_a_request_and_one_process_rebuilds(tmp_path):
    """Two real gunicorn workers, the index deleted: every search answers at once, one rebuild runs."""
    from tests.gunicorn_process import flask, gunicorn, site_env

    env = site_env(tmp_path)
    flask(env, "db", "upgrade")
    flask(env, "index", "ensure")
    import shutil

    shutil.rmtree(tmp_path / "index")
    with gunicorn(env) as server:
        answers = []

        def ask() -> None:
            answers.append(server.client().request("/search?q=naltrexone&format=json")[0])

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(BOUND)
        assert set(answers) <= {200, 503} and 503 in answers
        import time

        deadline = time.monotonic() + BOUND
        while server.client().request("/search?q=naltrexone&format=json")[0] != 200:
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.2)
        log = server.log_text()
    assert log.count("index rebuilt in the background") == 1, log
    assert len(list((tmp_path / "index").glob("gen-*"))) == 1
