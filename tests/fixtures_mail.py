"""Shared pytest fixtures for the mail tests (loaded by conftest.py).

- `outbox`: the messages the file transport wrote (the default in tests), parsed; the only outbox reader.
- `smtp_server`: a real aiosmtpd SMTP server on a free loopback port that can be
  stopped and started again, to show what happens while the server is down.
  A module points its app at it with
      @pytest.fixture
      def app_config(app_config, smtp_server):
          return {**app_config, **smtp_config(smtp_server)}
"""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import pytest


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def text_body(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content()


def html_body(msg: EmailMessage) -> str:
    return msg.get_body(("html",)).get_content()


class Outbox:
    """The .eml files the file transport wrote (one a message), oldest first: the one outbox reader.

    File names start with the time of sending, so name order is sending order.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def raw(self) -> list[bytes]:
        if not self.directory.exists():
            return []
        return [p.read_bytes() for p in sorted(self.directory.glob("*.eml"))]

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        """Every message, or those addressed to `to` (compared as addresses, ignoring case)."""
        found = [parse(r) for r in self.raw()]
        return found if to is None else [m for m in found if to.lower() in recipients(m)]

    def to(self, address: str) -> list[EmailMessage]:
        return self.messages(to=address)

    @staticmethod
    def text(msg: EmailMessage) -> str:
        part = msg.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def link(self, msg: EmailMessage, path_prefix: str) -> str:
        """The first link in the message's text part whose path starts with path_prefix, as a site path."""
        match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s\"<>]*)", self.text(msg))
        assert match, f"no {path_prefix} link in:\n{self.text(msg)}"
        return match.group(1)

    def __len__(self) -> int:
        return len(self.raw())


def recipients(msg: EmailMessage) -> set[str]:
    return {address.lower() for _name, address in getaddresses([str(msg["To"] or "")])}


@pytest.fixture
def outbox(app) -> Outbox:
    url = app.config["MAIL_URL"]
    assert url.startswith("file:"), "the outbox fixture reads the file transport"
    return Outbox(Path(url[len("file:") :]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Received:
    def __init__(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> None:
        self.mail_from, self.rcpt_tos, self.data = mail_from, rcpt_tos, data
        self.message = parse(data)


class _Sink:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_RCPT(self, _server, _session, envelope, address, _options):  # aiosmtpd names its hooks so
        """greylist@... is refused for now (451), bounce@... for good (550); everyone else accepted."""
        if address.startswith("greylist@"):
            return "451 4.7.1 Greylisted, try again later"
        if address.startswith("bounce@"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server, _session, envelope):  # aiosmtpd names its hooks so
        with self.server.lock:
            self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


class SMTPServer:
    """A real SMTP server on 127.0.0.1; stop() closes the port, start() opens it again.

    With `tls_dir`, it offers STARTTLS with a self-signed certificate for 127.0.0.1
    (written to tls_dir/cert.pem, for MAIL_CA_FILE) and requires it, then AUTH with
    `credentials` before it accepts mail.
    """

    def __init__(self, tls_dir: Path | None = None, credentials: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._controller = None
        self.credentials = credentials
        self.cert = None
        if tls_dir is not None:
            self.cert, self.key = tls_dir / "cert.pem", tls_dir / "key.pem"
            subprocess.run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "1",
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1",
                    "-keyout",
                    str(self.key),
                    "-out",
                    str(self.cert),
                ],
                check=True,
                capture_output=True,
            )

    def _authenticate(self, _server, _session, _envelope, _mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and self.credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        )
        return AuthResult(success=ok)

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        kwargs: dict = {}
        if self.cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, self.key)
            kwargs = {
                "tls_context": context,
                "require_starttls": True,
                "auth_require_tls": True,
                "auth_required": self.credentials is not None,
                "authenticator": self._authenticate,
            }
        self._controller = Controller(_Sink(self), hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address.lower() in (a.lower() for a in r.rcpt_tos)]


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tls_smtp_server(tmp_path):
    """STARTTLS required, then AUTH as mailer / s3cret:pass."""
    folder = tmp_path / "tls"
    folder.mkdir()
    server = SMTPServer(tls_dir=folder, credentials=("mailer", "s3cret:pass"))
    server.start()
    yield server
    server.stop()


def smtp_config(server: SMTPServer) -> dict:
    """Config that sends the app's mail to `server`."""
    return {"MAIL_URL": f"smtp://127.0.0.1:{server.port}", "MAIL_TIMEOUT": 5}
