"""What goes on the wire: headers that cannot be injected or broken, addresses and their hashes, transports."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldnsite.config import defaults
from ldnsite.db import get_session
from ldnsite.mail import transports
from ldnsite.mail.addresses import address_hash, clean_header_text, normalise
from ldnsite.mail.delivery import backoff
from ldnsite.mail.mailer import queue
from ldnsite.mail.tokens import hash_from_opt_in_token, hash_from_unsubscribe_token, opt_in_token, unsubscribe_token
from tests.fixtures_mail import html_body, text_body

CONFIG = {**defaults("/nonexistent"), "SECRET_KEY": "k", "SITE_URL": "https://example.org"}


def header_lines(raw: bytes) -> list[bytes]:
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    return head.replace(b"\r\n", b"\n").split(b"\n")


def queue_one(app, **overrides):
    args = {
        "to": "reader@example.com",
        "subject": "Hello",
        "template": "mail_opt_in",
        "context": {"confirm_url": "https://example.org/x"},
        "category": "notification",
        "dedupe_key": "t:1",
    }
    args.update(overrides)
    with app.app_context():
        session = get_session()
        message = queue(session, **args)
        session.commit()
        return message


@pytest.mark.parametrize(
    "subject", ["Hi\r\nBcc: victim@example.net", "Hi\nBcc: victim@example.net", "Hi\rBcc: victim@example.net", "Hi\r\n\r\nbody text"]
)
def test_subject_cannot_add_headers_or_start_the_body(app, outbox, subject):
    queue_one(app, subject=subject)
    (raw,) = outbox.raw()
    lines = header_lines(raw)
    assert not any(line.lower().startswith(b"bcc:") for line in lines)
    (msg,) = outbox.messages()
    assert msg["Bcc"] is None
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert msg["Subject"].startswith("Hi ")


@pytest.mark.parametrize(
    "to",
    [
        "reader@example.com\r\nBcc: victim@example.net",
        "Name <reader@example.com>",
        "a@example.com, b@example.com",
        "reader@exa\nmple.com",
        "no-at-sign",
    ],
)
def test_recipient_must_be_one_plain_address(app, outbox, to):
    with pytest.raises(ValueError):
        queue_one(app, to=to)
    assert outbox.raw() == []


def test_sender_display_name_cannot_inject(app, outbox):
    app.config["MAIL_FROM"] = "LDN Guide\r\nBcc: victim@example.net <no-reply@example.org>"
    queue_one(app)
    (msg,) = outbox.messages()
    assert msg["Bcc"] is None
    assert msg["From"].addresses[0].addr_spec == "no-reply@example.org"


def test_non_ascii_subject_is_encoded_but_the_unsubscribe_url_is_untouched(app, outbox):
    app.config["SITE_URL"] = "https://a-rather-long-host-name.for-the-ldn-guide.example.org"
    queue_one(app, subject="Réponse à votre sujet – " + "très long " * 12)
    (raw,) = outbox.raw()
    (msg,) = outbox.messages()
    assert msg["Subject"].startswith("Réponse à votre sujet")
    url = msg["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://a-rather-long-host-name.for-the-ldn-guide.example.org/unsubscribe/")
    assert f"List-Unsubscribe: <{url}>".encode() in header_lines(raw)
    assert b"=?" not in b"".join(line for line in header_lines(raw) if line.startswith(b"List-Unsubscribe"))


def test_template_without_its_own_link_gets_the_footer(app, outbox):
    queue_one(app)
    (msg,) = outbox.messages()
    url = msg["List-Unsubscribe"].strip("<>")
    assert url in text_body(msg)
    assert f'href="{url}"' in html_body(msg)
    assert html_body(msg).rstrip().endswith("</html>")


def test_file_transport_writes_whole_files_only(tmp_path: Path):
    transport = transports.from_url(f"file:{tmp_path / 'out'}")
    transport.send("a@example.org", "b@example.org", b"Subject: x\r\n\r\nbody\r\n")
    files = list((tmp_path / "out").iterdir())
    assert [f.suffix for f in files] == [".eml"]
    assert files[0].read_bytes() == b"Subject: x\r\n\r\nbody\r\n"


def test_mail_urls_are_parsed():
    t = transports.from_url("smtp+starttls://user%40example.org:p%3Ass@mail.example.org:2587", timeout=3)
    assert (t.host, t.port, t.mode, t.username, t.password, t.timeout) == (
        "mail.example.org",
        2587,
        "starttls",
        "user@example.org",
        "p:ss",
        3,
    )
    assert transports.from_url("smtp://relay").port == 25
    with pytest.raises(ValueError):
        transports.from_url("http://example.org")


def test_backoff_doubles_and_is_capped():
    config = {"MAIL_RETRY_BASE_SECONDS": 60, "MAIL_RETRY_MAX_SECONDS": 3600}
    delays = [backoff(n, config).total_seconds() for n in range(1, 9)]
    assert delays[:4] == [60, 120, 240, 480]
    assert delays[-1] == 3600


def test_normalise_case_space_and_idna():
    assert normalise("  Person@EXAMPLE.Org ") == "person@example.org"
    assert normalise("José@Bücher.example") == "josé@xn--bcher-kva.example"
    assert address_hash("José@BÜCHER.example", CONFIG) == address_hash("josé@xn--bcher-kva.example", CONFIG)


def test_hash_is_keyed():
    plain = address_hash("a@example.org", CONFIG)
    assert len(plain) == 64
    assert address_hash("a@example.org", {**CONFIG, "SECRET_KEY": "other"}) != plain
    assert address_hash("a@example.org", {**CONFIG, "MAIL_HASH_KEY": "separate"}) != plain
    assert address_hash("b@example.org", CONFIG) != plain


def test_tokens_name_the_hash_and_reject_tampering():
    token = unsubscribe_token("a@example.org", CONFIG)
    assert "example" not in token
    assert hash_from_unsubscribe_token(token, CONFIG) == address_hash("a@example.org", CONFIG)
    assert hash_from_unsubscribe_token(token, {**CONFIG, "SECRET_KEY": "other"}) is None
    opt_in = opt_in_token("a@example.org", CONFIG)
    assert hash_from_unsubscribe_token(opt_in, CONFIG) is None  # salts keep the two apart
    assert hash_from_opt_in_token(opt_in, CONFIG) == (address_hash("a@example.org", CONFIG), False)
    assert hash_from_opt_in_token(opt_in, CONFIG, max_age=-1) == (None, True)


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_cleaned_header_text_never_holds_a_line_break(value):
    cleaned = clean_header_text(value)
    assert not any(ch in cleaned for ch in "\r\n\x00")


def test_a_broken_sender_setting_keeps_messages_waiting(app, outbox):
    app.config["MAIL_FROM"] = "LDN Guide <not an address>"
    message = queue_one(app)
    assert outbox.raw() == []
    app.config["MAIL_FROM"] = "LDN Guide <no-reply@example.org>"
    result = app.test_cli_runner().invoke(args=["mail", "flush"])
    assert result.exit_code == 0, result.output
    (msg,) = outbox.messages()
    assert msg["Message-ID"].startswith(f"<mail.{message.id}.")


def test_an_unknown_mail_url_keeps_every_message_waiting(app, outbox):
    good = app.config["MAIL_URL"]
    app.config["MAIL_URL"] = "smtp-typo://relay:25"
    queue_one(app, dedupe_key="t:1")
    queue_one(app, dedupe_key="t:2")
    result = app.test_cli_runner().invoke(args=["mail", "flush"])
    assert result.exit_code == 1
    assert "2 message(s) waiting" in result.output
    app.config["MAIL_URL"] = good
    assert app.test_cli_runner().invoke(args=["mail", "flush"]).exit_code == 0
    assert len(outbox.raw()) == 2
