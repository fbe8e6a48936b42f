"""The mailer against a real SMTP server (aiosmtpd on loopback): delivery, opt-out, outages, races."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ldnsite import create_app
from ldnsite.db import get_session
from ldnsite.mail.delivery import deliver
from ldnsite.mail.mailer import cancel, queue
from ldnsite.mail.models import OutboundMessage
from ldnsite.mail.suppression import suppress
from ldnsite.mail.tokens import unsubscribe_url
from tests.fixtures_mail import smtp_config

pytestmark = pytest.mark.both_databases

LONG_SITE = "https://community.low-dose-naltrexone-guide.example.org"


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, **smtp_config(smtp_server), "SITE_URL": LONG_SITE}


def send(app, to: str, key: str, category: str = "notification") -> OutboundMessage | None:
    """Queue one message in a transaction of its own and commit (delivery follows the commit)."""
    with app.app_context():
        session = get_session()
        message = queue(
            session,
            to=to,
            subject="A reply to your topic",
            template="mail_opt_in",
            context={"confirm_url": f"{LONG_SITE}/somewhere"},
            category=category,
            dedupe_key=key,
        )
        session.commit()
        return message


def waiting(app) -> int:
    with app.app_context():
        return get_session().scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(OutboundMessage.sent_at.is_(None), OutboundMessage.cancelled_at.is_(None), OutboundMessage.failed_at.is_(None))
        )


def test_message_arrives_with_unsubscribe_headers_and_body_link(app, smtp_server):
    send(app, "reader@example.com", "reply:1:1")

    (got,) = smtp_server.to("reader@example.com")
    with app.app_context():
        url = unsubscribe_url("reader@example.com", app.config)
    assert len(url) > 100  # long enough that the default email policy would fold or encode it
    msg = got.message
    assert msg["List-Unsubscribe"] == f"<{url}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # On the wire the whole URL sits on one header line: not folded, not RFC 2047-encoded.
    lines = got.data.split(b"\r\n") if b"\r\n" in got.data else got.data.split(b"\n")
    header = [line for line in lines if line.startswith(b"List-Unsubscribe:")]
    assert header == [f"List-Unsubscribe: <{url}>".encode()]
    assert msg.get_content_type() == "multipart/alternative"
    assert url in msg.get_body(("plain",)).get_content()
    assert f'href="{url}"' in msg.get_body(("html",)).get_content()
    assert got.mail_from == "no-reply@localhost"


def test_mailto_unsubscribe_added_when_a_mailbox_is_configured(app, smtp_server):
    app.config["MAIL_UNSUBSCRIBE_MAILBOX"] = "unsubscribe@example.org"
    send(app, "reader@example.com", "reply:1:1")
    (got,) = smtp_server.to("reader@example.com")
    value = got.message["List-Unsubscribe"]
    assert value.startswith(f"<{LONG_SITE}/unsubscribe/")
    assert value.endswith(", <mailto:unsubscribe@example.org?subject=unsubscribe>")


def test_account_mail_has_no_list_headers(app, smtp_server):
    send(app, "new@example.com", "verify:1", category="account")
    (got,) = smtp_server.to("new@example.com")
    assert got.message["List-Unsubscribe"] is None
    assert got.message["List-Unsubscribe-Post"] is None


def test_opted_out_address_receives_nothing_but_a_password_reset(app, smtp_server):
    with app.app_context():
        session = get_session()
        suppress(session, "  Quiet@Example.COM ")
        session.commit()

    assert send(app, "quiet@example.com", "reply:1:2") is None
    assert send(app, "quiet@example.com", "verify:2", category="account") is None
    assert send(app, "quiet@example.com", "removed:3", category="moderation") is None
    assert smtp_server.to("quiet@example.com") == []
    assert send(app, "quiet@example.com", "reset:2", category="password_reset") is not None
    (got,) = smtp_server.to("quiet@example.com")
    assert got.message["Subject"] == "A reply to your topic"


def test_opting_out_after_queueing_stops_the_waiting_message(app, smtp_server):
    app.config["MAIL_DELIVER_ON_COMMIT"] = False
    send(app, "late@example.com", "reply:9:9")
    with app.app_context():
        session = get_session()
        suppress(session, "late@example.com")
        session.commit()
    result = app.test_cli_runner().invoke(args=["mail", "flush"])
    assert result.exit_code == 0, result.output
    assert smtp_server.to("late@example.com") == []
    assert waiting(app) == 0


def test_messages_wait_while_server_is_down_and_flush_delivers_each_once(app, smtp_server):
    smtp_server.stop()
    for n in range(3):
        assert send(app, f"reader{n}@example.com", f"reply:{n}:1") is not None  # the commit itself succeeds
    assert waiting(app) == 3
    with app.app_context():
        first = get_session().scalar(select(OutboundMessage).order_by(OutboundMessage.id))
        assert first.attempts >= 1 and first.last_error
        assert first.next_attempt_at > first.created_at  # backed off

    runner = app.test_cli_runner()
    down = runner.invoke(args=["mail", "flush"])
    assert down.exit_code == 1
    assert "3 message(s) waiting" in down.output
    assert waiting(app) == 3

    smtp_server.start()
    up = runner.invoke(args=["mail", "flush"])
    assert up.exit_code == 0, up.output
    assert "sent 3" in up.output
    again = runner.invoke(args=["mail", "flush"])
    assert "sent 0" in again.output
    for n in range(3):
        assert len(smtp_server.to(f"reader{n}@example.com")) == 1
    assert len(smtp_server.received) == 3
    assert waiting(app) == 0


def test_the_same_event_never_produces_two_messages(app, smtp_server):
    assert send(app, "reader@example.com", "reply:7:1") is not None
    assert send(app, "reader@example.com", "reply:7:1") is None
    assert len(smtp_server.to("reader@example.com")) == 1


def test_a_rolled_back_transaction_sends_nothing(app, smtp_server):
    with app.app_context():
        session = get_session()
        queue(
            session,
            to="reader@example.com",
            subject="s",
            template="mail_opt_in",
            context={"confirm_url": "x"},
            category="notification",
            dedupe_key="reply:8:1",
        )
        session.rollback()
        session.commit()
    assert smtp_server.received == []
    assert waiting(app) == 0


def test_cancel_stops_only_matching_unsent_messages(app, smtp_server):
    app.config["MAIL_DELIVER_ON_COMMIT"] = False
    for key in ("reply:5:1", "reply:5:2", "reply:50:1", "reply:5x1"):
        send(app, f"{key.replace(':', '-')}@example.com", key)
    with app.app_context():
        session = get_session()
        assert cancel(session, "reply:5:") == 2
        session.commit()
    app.test_cli_runner().invoke(args=["mail", "flush"])
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == ["reply-50-1@example.com", "reply-5x1@example.com"]


def test_two_processes_flushing_at_once_send_each_message_once(app, app_config, smtp_server):
    app.config["MAIL_DELIVER_ON_COMMIT"] = False
    for n in range(12):
        send(app, f"race{n}@example.com", f"race:{n}")
    other = create_app(app_config)  # a second process: its own engine and connections
    barrier = threading.Barrier(2)
    reports = []

    def flush(a):
        barrier.wait()
        reports.append(deliver(a, due_only=False))

    threads = [threading.Thread(target=flush, args=(a,)) for a in (app, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    other.extensions["db_engine"].dispose()

    assert sum(r.sent for r in reports) == 12
    for n in range(12):
        assert len(smtp_server.to(f"race{n}@example.com")) == 1
    assert waiting(app) == 0


def test_purge_blanks_old_finished_messages_but_keeps_their_dedupe_keys(app, smtp_server):
    send(app, "old@example.com", "reply:40:1")
    runner = app.test_cli_runner()
    assert "blanked 0" in runner.invoke(args=["mail", "purge"]).output
    assert "blanked 1" in runner.invoke(args=["mail", "purge", "--days", "-1"]).output
    with app.app_context():
        row = get_session().scalar(select(OutboundMessage))
        assert (row.to_addr, row.subject, row.text_body, row.html_body) == ("", "", "", "")
    assert send(app, "old@example.com", "reply:40:1") is None  # the event still cannot mail twice


def test_a_temporarily_refused_message_waits_without_holding_up_the_rest(app, smtp_server):
    app.config["MAIL_DELIVER_ON_COMMIT"] = False
    send(app, "greylist@example.com", "reply:60:1")
    send(app, "bounce@example.com", "reply:60:2")
    send(app, "josé@example.com", "reply:60:3")
    send(app, "reader@example.com", "reply:60:4")
    result = app.test_cli_runner().invoke(args=["mail", "flush"])
    assert result.exit_code == 1  # the greylisted one will be retried
    assert "sent 1, failed 1 (will retry), refused 2" in result.output
    assert len(smtp_server.to("reader@example.com")) == 1
    with app.app_context():
        rows = {m.to_addr: m for m in get_session().scalars(select(OutboundMessage))}
    assert rows["greylist@example.com"].sent_at is None and rows["greylist@example.com"].failed_at is None
    assert "451" in rows["greylist@example.com"].last_error
    assert rows["bounce@example.com"].failed_at is not None and "550" in rows["bounce@example.com"].last_error
    assert rows["josé@example.com"].failed_at is not None
    assert waiting(app) == 1


def test_forget_cancels_and_blanks_everything_to_an_address(app, smtp_server):
    from ldnsite.mail.mailer import forget

    send(app, "gone@example.com", "reply:70:1")
    app.config["MAIL_DELIVER_ON_COMMIT"] = False
    send(app, "gone@example.com", "reply:70:2")
    send(app, "stays@example.com", "reply:70:3")
    with app.app_context():
        session = get_session()
        assert forget(session, " Gone@Example.com") == 2
        session.commit()
    app.test_cli_runner().invoke(args=["mail", "flush"])
    assert len(smtp_server.to("gone@example.com")) == 1  # only the one sent before
    assert len(smtp_server.to("stays@example.com")) == 1
    with app.app_context():
        addresses = sorted(get_session().scalars(select(OutboundMessage.to_addr)))
    assert addresses == ["", "", "stays@example.com"]


def test_racing_transactions_queue_one_message_and_both_commit(app, db_backend, smtp_server):
    """PostgreSQL: two transactions queue the same event at once; the loser's savepoint absorbs it."""
    if db_backend != "postgresql":
        pytest.skip("SQLite serialises writers, so the race cannot happen there")
    from ldnsite.accounts.models import User

    app.config["MAIL_DELIVER_ON_COMMIT"] = False
    maker = app.extensions["db_sessionmaker"]
    first, second = maker(), maker()
    results = {}
    with app.app_context():
        results["first"] = queue(
            first,
            to="r@example.com",
            subject="s",
            template="mail_opt_in",
            context={"confirm_url": "x"},
            category="notification",
            dedupe_key="race:1",
        )

        def other():
            with app.app_context():
                second.add(User(email="bystander@example.com", display_name="Bystander", password_hash="x"))
                results["second"] = queue(
                    second,
                    to="r@example.com",
                    subject="s",
                    template="mail_opt_in",
                    context={"confirm_url": "x"},
                    category="notification",
                    dedupe_key="race:1",
                )
                second.commit()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(1)
        assert thread.is_alive()  # waiting on the first transaction's row
        first.commit()
        thread.join(30)
    first.close()
    second.close()
    assert results["first"] is not None and results["second"] is None
    assert waiting(app) == 1
    with app.app_context():
        assert get_session().scalar(select(func.count()).select_from(User)) == 1  # the loser's own change survived
