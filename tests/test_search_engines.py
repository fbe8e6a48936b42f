"""Choosing the search engine, switching between them, and the PostgreSQL engine across processes.

What an operator would notice: a setting the database cannot serve stops the
app at start with a message saying what to change; `index status` reports
what is missing instead of failing; switching engines is a rebuild away; and
with the PostgreSQL engine a post made on one node is found on another at once,
with no index directory anywhere.
"""

from __future__ import annotations

import re
import threading
import urllib.parse

import pytest
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from ldnsite import create_app
from ldnsite.db import Base, get_session, utcnow
from tests.fixtures_search import urls

pytestmark = pytest.mark.both_databases


@pytest.fixture
def postgres_only(db_backend):
    if db_backend != "postgresql":
        pytest.skip("the PostgreSQL engine needs PostgreSQL")


def pg_app(app_config, **overrides):
    app = create_app({**app_config, "SEARCH_BACKEND": "postgres", **overrides})
    from ldnsite.search import pg_tables

    Base.metadata.create_all(app.extensions["db_engine"])
    pg_tables.metadata.create_all(app.extensions["db_engine"])
    return app


def ask(app, q: str, **params):
    return app.test_client().get("/search", query_string={"q": q, "format": "json", **params})


def test_postgres_engine_is_refused_at_start_on_sqlite(app_config, db_backend):
    if db_backend != "sqlite":
        pytest.skip("about a SQLite database")
    with pytest.raises(RuntimeError, match=r"SEARCH_BACKEND=postgres .* not a PostgreSQL database") as info:
        create_app({**app_config, "SEARCH_BACKEND": "postgres"})
    assert "FLASK_SEARCH_BACKEND=whoosh" in str(info.value)  # it says what to change


def test_an_unknown_engine_is_refused_at_start(app_config):
    with pytest.raises(RuntimeError, match="must be 'whoosh' or 'postgres', not 'elastic'"):
        create_app({**app_config, "SEARCH_BACKEND": "elastic"})


def test_status_and_search_say_what_is_missing_without_failing(app_config, postgres_only):
    """No search tables (migration 0005 not run): status exits 1 with the fix; a search answers 503, not 500."""
    app = create_app({**app_config, "SEARCH_BACKEND": "postgres", "SEARCH_REQUEST_WAITS_FOR_BUILD": False})
    Base.metadata.create_all(app.extensions["db_engine"])  # the site's tables only
    result = app.test_cli_runner().invoke(args=["index", "status"])
    assert result.exit_code == 1
    assert "the search tables are missing: run `flask --app app db upgrade`" in result.output
    assert "missing_extensions:" in result.output
    response = ask(app, "ldn")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.get_json()["retry_after"] == 30
    with app.app_context():  # a post is still saved (only search lacks it until the migration and a build)
        from ldnsite.forum.models import Topic
        from ldnsite.search.outbox import enqueue

        session = get_session()
        topic = Topic(title="Saved anyway", created_at=utcnow(), last_activity_at=utcnow())
        session.add(topic)
        session.flush()
        enqueue(session, "topic", topic.id)
        session.commit()
        assert session.get(Topic, topic.id) is not None
    app.extensions["db_engine"].dispose()


def test_switching_engines_then_rebuild_then_search(app, app_config, forum_post, postgres_only):
    """Whoosh to PostgreSQL and back on one database: each engine finds everything after `index rebuild|ensure`."""
    first = forum_post("Numbat sleep notes.", title="Numbat")
    assert urls(ask(app, "numbat").get_json()) == [f"/forum/t/{first.topic_id}"]  # the Whoosh engine

    pg = pg_app(app_config, SEARCH_REQUEST_WAITS_FOR_BUILD=False)
    runner = pg.test_cli_runner()
    status = runner.invoke(args=["index", "status"])
    assert status.exit_code == 1 and "search has not been built yet" in status.output
    assert ask(pg, "numbat").status_code == 503  # not built: searches wait for the rebuild, pages work
    built = runner.invoke(args=["index", "rebuild"])
    assert built.exit_code == 0 and re.search(r"rebuilt: \d+ documents", built.output), built.output
    status = runner.invoke(args=["index", "status"])
    assert status.exit_code == 0 and "health: ok" in status.output and "engine: postgres" in status.output
    assert urls(ask(pg, "numbat").get_json()) == [f"/forum/t/{first.topic_id}"]
    assert ask(pg, "fibromyalgia").get_json()["results"][0]["url"] == "/conditions/fibromyalgia"  # pages too
    assert runner.invoke(args=["index", "ensure"]).output.strip() == "up to date"

    # A post made while the PostgreSQL engine runs; then back to Whoosh: `index ensure` catches up from the outbox.
    with pg.app_context():
        from ldnsite.forum.models import Post, Topic
        from ldnsite.search.outbox import enqueue

        session = get_session()
        topic = Topic(title="Quokka", created_at=utcnow(), last_activity_at=utcnow())
        session.add(topic)
        session.flush()
        session.add(Post(topic_id=topic.id, body_source="Quokka dosing.", body_html="<p>Quokka dosing.</p>"))
        enqueue(session, "topic", topic.id)
        session.commit()
    assert urls(ask(pg, "quokka").get_json()) == [f"/forum/t/{topic.id}"]  # at once, same transaction
    back = create_app({**app_config, "SEARCH_BACKEND": "whoosh"})
    assert back.test_cli_runner().invoke(args=["index", "ensure"]).exit_code == 0
    assert urls(ask(back, "quokka").get_json()) == [f"/forum/t/{topic.id}"]
    for other in (pg, back):
        other.extensions["db_engine"].dispose()


def test_a_change_rolled_back_leaves_no_search_row(app_config, postgres_only):
    pg = pg_app(app_config)
    assert ask(pg, "warm-up").status_code == 200  # builds
    with pg.app_context():
        from ldnsite.forum.models import Post, Topic
        from ldnsite.search.outbox import enqueue

        session = get_session()
        topic = Topic(title="Pangolin", created_at=utcnow(), last_activity_at=utcnow())
        session.add(topic)
        session.flush()
        session.add(Post(topic_id=topic.id, body_source="Pangolin.", body_html="<p>Pangolin.</p>"))
        enqueue(session, "topic", topic.id)
        session.flush()
        session.rollback()
    assert ask(pg, "pangolin").get_json()["total"] == 0
    with pg.extensions["db_engine"].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM search_document WHERE kind <> 'page'")).scalar() == 0
    pg.extensions["db_engine"].dispose()


def test_a_process_killed_right_after_commit_has_already_made_its_post_searchable(app_config, run_node, postgres_only):
    pg = pg_app(app_config)
    assert ask(pg, "warm-up").status_code == 200
    node = run_node("die-after-commit", "pangolin", SEARCH_BACKEND="postgres")
    assert node.wait(60) == 0
    assert ask(pg, "pangolin").get_json()["total"] == 1
    pg.extensions["db_engine"].dispose()


def test_rebuild_while_searching_keeps_every_answer(app_config, postgres_only):
    pg = pg_app(app_config)
    with pg.app_context():
        from ldnsite.forum.models import Post, Topic

        session = get_session()
        for n in range(30):
            topic = Topic(title=f"Quoll {n}", created_at=utcnow(), last_activity_at=utcnow())
            session.add(topic)
            session.flush()
            session.add(Post(topic_id=topic.id, body_source="Quoll facts.", body_html="<p>Quoll facts.</p>"))
        session.commit()  # no outbox rows: only a rebuild finds these
        indexer = pg.extensions["search_indexer"]
        indexer.rebuild()
    counts: list[int] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def search_loop() -> None:
        with pg.app_context():
            while not stop.is_set():
                try:
                    counts.append(pg.extensions["search"].search("quoll").total)
                except BaseException as exc:  # noqa: BLE001
                    failures.append(exc)

    threads = [threading.Thread(target=search_loop) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        with pg.app_context():
            for _ in range(2):
                indexer.rebuild()
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not failures, failures[:3]
    assert counts and set(counts) == {30}
    pg.extensions["db_engine"].dispose()


# ---- two nodes -------------------------------------------------------------------------------------


def _schema_url(app_config) -> str:
    """The test's private schema as a database URL a subprocess can use (FLASK_DATABASE_URL)."""
    options = app_config["DATABASE_ENGINE_OPTIONS"]["connect_args"]["options"]
    return app_config["DATABASE_URL"] + "?options=" + urllib.parse.quote(options)


def test_two_nodes_on_one_database_see_each_others_posts_and_removals_at_once(app_config, tmp_path, postgres_only):
    """Two gunicorn processes, FLASK_SEARCH_BACKEND=postgres, no index directory: no delay, no per-node state."""
    from ldnsite.accounts.models import User
    from tests.gunicorn_process import flask, gunicorn, site_env

    env = site_env(
        tmp_path, FLASK_DATABASE_URL=_schema_url(app_config), FLASK_SEARCH_BACKEND="postgres", FLASK_INDEX_DIR=str(tmp_path / "no-index")
    )
    flask(env, "db", "upgrade")
    setup = create_app({**app_config, "SEARCH_BACKEND": "postgres"})
    with setup.app_context():
        from ldnsite.forum.models import Post, Topic

        session = get_session()
        member = User(
            email="member@example.com",
            display_name="Member",
            role="member",
            verified_at=utcnow(),
            password_hash=generate_password_hash("correct horse battery"),
        )
        session.add(member)
        session.flush()
        # Approved posts already, so the member's new posts are published at once (not held for a moderator).
        intro = Topic(title="Introductions", author_id=member.id, created_at=utcnow(), last_activity_at=utcnow())
        session.add(intro)
        session.flush()
        for body in ("Hello.", "Second post.", "Third post."):
            session.add(Post(topic_id=intro.id, author_id=member.id, body_source=body, body_html=f"<p>{body}</p>"))
        session.commit()
    setup.extensions["db_engine"].dispose()
    assert "built" in flask(env, "index", "ensure").stdout

    with gunicorn(env, workers=1) as node_a, gunicorn(env, workers=1) as node_b:
        writer = node_a.client()
        status, _, _ = writer.submit("/account/login", {"email": "member@example.com", "password": "correct horse battery"})
        assert status in (302, 303), node_a.log_text()
        status, headers, _ = writer.submit(
            "/forum/new", {"title": "Bilby sleep question", "body": "Has anyone tried LDN for bilby dreams?"}
        )
        assert status in (302, 303), node_a.log_text()
        topic_path = urllib.parse.urlsplit(headers["Location"]).path

        reader = node_b.client()
        found = reader.request("/search?q=bilby&format=json")[2]
        assert f'"url": "{topic_path}"' in found  # found on the other node at once: no sync, no wait

        status, _, _ = writer.submit(f"{topic_path}/reply", {"body": "A numbat reply that I will withdraw."})
        assert status in (302, 303), node_a.log_text()
        found = reader.request("/search?q=numbat&format=json")[2]
        post_id = re.search(r"#post-(\d+)", found).group(1)
        status, _, _ = writer.submit(f"/forum/p/{post_id}/withdraw", {})
        assert status in (302, 303), node_a.log_text()
        after = reader.request("/search?q=numbat&format=json")[2]
        assert '"total": 0' in after and "numbat reply" not in after  # hidden on the other node at once
    assert not (tmp_path / "no-index").exists()  # neither node kept any search state on disk


def test_search_reads_can_go_to_a_replica_while_writes_stay_on_the_primary(app_config, postgres_only):
    """SEARCH_DATABASE_URL: here the same database through its own connections, as a replica would be."""
    replica = {"SEARCH_DATABASE_URL": app_config["DATABASE_URL"]}
    pg = pg_app(app_config, **replica)
    assert ask(pg, "warm-up").status_code == 200
    with pg.app_context():
        from ldnsite.forum.models import Post, Topic
        from ldnsite.search.outbox import enqueue

        session = get_session()
        topic = Topic(title="Bandicoot", created_at=utcnow(), last_activity_at=utcnow())
        session.add(topic)
        session.flush()
        session.add(Post(topic_id=topic.id, body_source="Bandicoot.", body_html="<p>Bandicoot.</p>"))
        enqueue(session, "topic", topic.id)
        session.commit()
    search = pg.extensions["search"].engine
    assert search.db is not pg.extensions["db_engine"]  # its own engine: reads only
    assert urls(ask(pg, "bandicoot").get_json()) == [f"/forum/t/{topic.id}"]
    status = pg.test_cli_runner().invoke(args=["index", "status"]).output
    assert "search_database: replica (SEARCH_DATABASE_URL)" in status
    search.close()
    pg.extensions["db_engine"].dispose()
