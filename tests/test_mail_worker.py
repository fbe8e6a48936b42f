"""Mail leaves from the background worker: no request waits on the relay, and the forms that mail
only some addresses (reset, opt-in) do the same work for every address, so timing reveals nothing."""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
from sqlalchemy import event, select

from ldnsite.db import get_session
from ldnsite.mail import worker
from ldnsite.mail.delivery import deliver
from ldnsite.mail.models import OutboundMessage
from ldnsite.mail.suppression import suppress
from tests.conftest import post_form
from tests.fixtures_mail import smtp_config

BOUND = 30  # seconds: only how long a failing test may take, never a measurement


class HangingRelay:
    """A TCP server on loopback that accepts and then says nothing until released: a hung relay."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connected = threading.Event()
        self.release = threading.Event()
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.release.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            self.connected.set()

    def close(self) -> None:
        self.release.set()
        for conn in self._conns:
            conn.close()
        self.sock.close()


@pytest.fixture
def relay():
    r = HangingRelay()
    yield r
    r.close()


def _stop_worker(app) -> None:
    w = app.extensions.get(worker.EXTENSION)
    if w is not None:
        w.stop(timeout=BOUND)


def test_a_request_returns_while_the_relay_hangs(app, client, make_user, relay):
    app.config.update(MAIL_DELIVERY="worker", MAIL_URL=f"smtp://127.0.0.1:{relay.port}", MAIL_TIMEOUT=BOUND * 4)
    make_user()
    done = threading.Event()
    result: dict = {}

    def ask() -> None:
        result["response"] = post_form(client, "/account/reset", {"email": "member@example.com"})
        done.set()

    threading.Thread(target=ask, daemon=True).start()
    try:
        assert relay.connected.wait(BOUND), "nobody tried to deliver the reset email"
        # The relay has the connection and answers nothing; the request must be finished regardless.
        assert done.wait(BOUND), "the request waited on the hanging relay"
        assert not relay.release.is_set()
        assert result["response"].status_code == 302
    finally:
        relay.close()
        _stop_worker(app)
    with app.app_context():
        row = get_session().scalars(select(OutboundMessage).where(OutboundMessage.to_addr == "member@example.com")).one()
        assert row.sent_at is None  # still waiting for a relay that answers


def test_the_worker_delivers_what_a_request_queued(app, client, make_user, smtp_server):
    app.config.update(MAIL_DELIVERY="worker", **smtp_config(smtp_server))
    make_user()
    try:
        assert post_form(client, "/account/reset", {"email": "member@example.com"}).status_code == 302
        deadline = time.monotonic() + BOUND
        while not smtp_server.to("member@example.com") and time.monotonic() < deadline:
            time.sleep(0.05)
        [got] = smtp_server.to("member@example.com")
        assert got.message["Subject"] == "Reset your password"
    finally:
        _stop_worker(app)


def test_message_id_is_the_same_on_a_retry_after_the_relay_dropped_the_connection(app, db, smtp_server):
    """A relay that got the whole message but dropped the line sees the same Message-ID again."""
    from ldnsite.mail.mailer import queue
    from tests.fixtures_mail import Received

    app.config.update(**smtp_config(smtp_server))
    app.config["MAIL_DELIVER_ON_COMMIT"] = False
    queue(
        db,
        to="reader@example.com",
        subject="A reply",
        template="mail_opt_in",
        context={"confirm_url": "http://localhost/x"},
        category="notification",
        dedupe_key="reply:1:1",
    )
    db.commit()

    sink = smtp_server._controller.handler
    original = type(sink).handle_DATA
    drops = []

    async def drop_once(self, server, session, envelope):
        if not drops:
            drops.append(1)
            with smtp_server.lock:
                smtp_server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            server.transport.close()  # the message arrived, the reply never leaves
            return "250 OK"
        return await original(self, server, session, envelope)

    sink.handle_DATA = drop_once.__get__(sink)
    first = deliver(app, due_only=False)
    assert first.failed == 1  # the site could not know it arrived
    second = deliver(app, due_only=False)
    assert second.sent == 1
    copies = smtp_server.to("reader@example.com")
    assert len(copies) == 2
    assert copies[0].message["Message-ID"] == copies[1].message["Message-ID"]


def _statements(app, run) -> list[str]:
    """The SQL the request thread runs (parameters left out), in order."""
    seen: list[str] = []
    me = threading.get_ident()

    def record(_conn, _cursor, statement, _params, _context, _many):
        if threading.get_ident() == me:
            seen.append(re.sub(r"\s+", " ", statement))

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def _mail_rows(app) -> list[tuple]:
    with app.app_context():
        return [(m.category, m.sent_at is None) for m in get_session().scalars(select(OutboundMessage).order_by(OutboundMessage.id))]


def test_reset_form_does_the_same_database_work_for_known_and_unknown_addresses(app, client, make_user):
    app.config["MAIL_DELIVERY"] = "worker"
    make_user()
    client.get("/account/reset")
    try:
        known = _statements(app, lambda: post_form(client, "/account/reset", {"email": "member@example.com"}))
        unknown = _statements(app, lambda: post_form(client, "/account/reset", {"email": "stranger@example.com"}))
    finally:
        _stop_worker(app)
    assert any(s.startswith("INSERT INTO mail_queue") for s in known)
    assert known == unknown
    with app.app_context():
        rows = get_session().scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        assert [r.to_addr for r in rows] == ["member@example.com", ""]  # the decoy holds no address
        assert rows[1].cancelled_at is not None and rows[1].text_body == ""


def test_opt_in_form_does_the_same_database_work_for_listed_and_unlisted_addresses(app, client):
    app.config["MAIL_DELIVERY"] = "worker"
    with app.app_context():
        s = get_session()
        suppress(s, "listed@example.com")
        s.commit()
    client.get("/opt-in")
    try:
        listed = _statements(app, lambda: post_form(client, "/opt-in", {"email": "listed@example.com"}))
        unlisted = _statements(app, lambda: post_form(client, "/opt-in", {"email": "unlisted@example.com"}))
    finally:
        _stop_worker(app)
    assert any(s.startswith("INSERT INTO mail_queue") for s in listed)
    assert listed == unlisted


def test_decoys_are_never_sent_and_are_purged(app, client, outbox):
    from datetime import timedelta

    from ldnsite.mail.delivery import purge

    post_form(client, "/account/reset", {"email": "stranger@example.com"})
    assert len(outbox) == 0
    report = deliver(app, due_only=False)
    assert (report.sent, report.failed, report.refused) == (0, 0, 0)
    purge(app, older_than=timedelta(seconds=-1))
    assert _mail_rows(app) == []


def test_gunicorn_workers_deliver_in_the_background_with_no_setting(tmp_path, smtp_server):
    """The embedded defaults under a real gunicorn with two workers: each forked worker sends."""
    from tests.gunicorn_process import flask, gunicorn, site_env

    env = site_env(tmp_path, FLASK_MAIL_URL=f"smtp://127.0.0.1:{smtp_server.port}")
    env.pop("FLASK_MAIL_DELIVERY", None)
    flask(env, "db", "upgrade")
    with gunicorn(env) as server:
        for n in range(4):  # several requests, so both workers are likely to serve one
            status, _, _ = server.client().submit("/opt-out", {"email": f"reader{n}@example.com"})
            assert status == 200
        browser = server.client()
        for n in range(4):
            assert browser.submit("/opt-in", {"email": f"reader{n}@example.com"})[0] == 200
        deadline = time.monotonic() + BOUND
        while len(smtp_server.received) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [f"reader{n}@example.com" for n in range(4)]
