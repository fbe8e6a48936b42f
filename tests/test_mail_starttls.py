"""smtp+starttls:// against a real aiosmtpd server that requires STARTTLS and AUTH."""

from __future__ import annotations

import pytest

from ldnsite.db import get_session
from ldnsite.mail.mailer import queue
from ldnsite.mail.models import OutboundMessage


@pytest.fixture
def app_config(app_config, tls_smtp_server):
    return {
        **app_config,
        "MAIL_URL": f"smtp+starttls://mailer:s3cret%3Apass@127.0.0.1:{tls_smtp_server.port}",
        "MAIL_CA_FILE": str(tls_smtp_server.cert),
        "MAIL_TIMEOUT": 5,
    }


def send(app, key: str) -> None:
    with app.app_context():
        session = get_session()
        queue(
            session,
            to="reader@example.com",
            subject="Hello",
            template="mail_opt_in",
            context={"confirm_url": "https://example.org/x"},
            category="notification",
            dedupe_key=key,
        )
        session.commit()


def test_delivers_over_starttls_with_auth(app, tls_smtp_server):
    send(app, "tls:1")
    (got,) = tls_smtp_server.to("reader@example.com")
    assert got.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_wrong_password_or_untrusted_certificate_keeps_the_message_waiting(app, tls_smtp_server):
    app.config["MAIL_URL"] = app.config["MAIL_URL"].replace("s3cret", "wrong")
    send(app, "tls:2")
    with app.app_context():
        refused = get_session().query(OutboundMessage).one()
        assert refused.sent_at is None and refused.last_error
    app.config["MAIL_URL"] = app.config["MAIL_URL"].replace("wrong", "s3cret")
    app.config["MAIL_CA_FILE"] = None  # the system's CAs do not trust the test certificate
    runner = app.test_cli_runner()
    assert runner.invoke(args=["mail", "flush"]).exit_code == 1
    assert tls_smtp_server.received == []
    with app.app_context():
        (row,) = get_session().query(OutboundMessage).all()
        assert row.sent_at is None and "CERTIFICATE_VERIFY_FAILED" in row.last_error
    app.config["MAIL_CA_FILE"] = str(tls_smtp_server.cert)
    assert runner.invoke(args=["mail", "flush"]).exit_code == 0
    assert len(tls_smtp_server.to("reader@example.com")) == 1


def test_credentials_over_a_plain_connection_are_refused(app):
    from ldnsite.mail.transports import from_url

    with pytest.raises(ValueError):
        from_url("smtp://user:pass@127.0.0.1:25")
