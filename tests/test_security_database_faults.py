"""Database faults answer 503 with Retry-After and keep the reader's text; readers never wait for a writer's lock."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import create_engine, func, select, text

from ldnsite.db import get_session
from tests.conftest import PG_URL, csrf_from, sign_in

BOUND = 30  # seconds: how long a failing test may take, never a measurement


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SQLITE_BUSY_TIMEOUT_MS": 200}


class WriteLock:
    """Another process's write transaction on the SQLite file, held until released."""

    def __init__(self, app) -> None:
        self.conn = sqlite3.connect(app.config["DATABASE_URL"].split("sqlite:///", 1)[1], isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("UPDATE users SET notify_replies = notify_replies")

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def post_count(app) -> int:
    from ldnsite.forum.models import Post

    with app.app_context():
        return get_session().scalar(select(func.count(Post.id)))


def test_a_write_that_times_out_on_the_sqlite_lock_answers_503_and_keeps_the_typed_text(app, client, make_member, make_topic, caplog):
    member = make_member()
    topic_id, _ = make_topic(member, title="Sleep on LDN")
    sign_in(client, member)
    token = csrf_from(client.get(f"/forum/t/{topic_id}/reply").get_data(as_text=True))
    before = post_count(app)
    lock = WriteLock(app)
    try:
        response = client.post(
            f"/forum/t/{topic_id}/reply", data={"csrf_token": token, "body": "My sleep got better in week three.", "website": ""}
        )
    finally:
        lock.release()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert "The site is busy for a moment" in page
    assert "My sleep got better in week three.</textarea>" in page  # ready to send again
    assert f'action="/forum/t/{topic_id}/reply"' in page
    assert post_count(app) == before  # nothing half-saved
    assert "database unavailable, answered 503" in caplog.text
    assert "Traceback" not in caplog.text and "INSERT" not in caplog.text


def test_passwords_are_not_put_back_on_the_page(app, client, make_user):
    make_user()
    token = csrf_from(client.get("/account/login").get_data(as_text=True))
    lock = WriteLock(app)
    try:
        response = client.post("/account/reset", data={"csrf_token": token, "email": "member@example.com"})
    finally:
        lock.release()
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "member@example.com</textarea>" in page
    assert token not in page.split("What you typed")[1].split('name="csrf_token"')[0]


def test_readers_do_not_wait_for_a_writers_lock(app, client, make_member, make_topic):
    """WAL mode: while another connection holds the write lock, pages that read answer at once."""
    member = make_member()
    topic_id, _ = make_topic(member, title="Reading while writing")
    lock = WriteLock(app)
    done = threading.Event()
    answers: list[int] = []

    def read() -> None:
        for path in ("/", f"/forum/t/{topic_id}", "/forum/", "/healthz"):
            answers.append(client.get(path).status_code)
        done.set()

    try:
        threading.Thread(target=read, daemon=True).start()
        assert done.wait(BOUND)
        assert lock.conn.in_transaction  # the lock was held the whole time
    finally:
        lock.release()
    assert answers == [200, 200, 200, 200]


@pytest.mark.both_databases
def test_postgresql_unreachable_answers_503_and_recovers_when_it_is_back(app_config, db_backend):
    """A PostgreSQL restart: the server refuses connections for a while, then the pool reconnects."""
    if db_backend != "postgresql":
        pytest.skip("about PostgreSQL")
    from ldnsite import create_app
    from ldnsite.db import Base
    from tests.fixtures_mail import free_port

    good = create_app(app_config)
    Base.metadata.create_all(good.extensions["db_engine"])
    down = create_app({**app_config, "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"})
    client = down.test_client()
    response = client.get("/forum/")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert client.get("/healthz").status_code == 503

    # Existing connections cut (what a restart does to them): the next request reconnects.
    good_client = good.test_client()
    assert good_client.get("/forum/").status_code == 200
    engine = good.extensions["db_engine"]
    with engine.connect() as pooled:  # the idle connection the next request will be given
        pid = pooled.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(PG_URL)
    with admin.connect() as other:  # only this app's own connection is cut
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    assert good_client.get("/forum/").status_code == 200
    engine.dispose()
