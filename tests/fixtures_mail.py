"""Shared pytest fixtures for the mail tests (loaded by conftest.py).

- `outbox`: the messages the file transport wrote (the default in tests), parsed.
- `smtp_server`: a real aiosmtpd SMTP server on a free loopback port that can be
  stopped and started again, to show what happens while the server is down.
  A module points its app at it with
      @pytest.fixture
      def app_config(app_config, smtp_server):
          return {**app_config, **smtp_config(smtp_server)}
"""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def text_body(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content()


def html_body(msg: EmailMessage) -> str:
    return msg.get_body(("html",)).get_content()


class Outbox:
    """The .eml files in the file transport's directory, oldest first."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def raw(self) -> list[bytes]:
        if not self.directory.exists():
            return []
        return [p.read_bytes() for p in sorted(self.directory.glob("*.eml"))]

    def messages(self) -> list[EmailMessage]:
        return [parse(r) for r in self.raw()]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if str(m["To"]).lower() == address.lower()]

    def __len__(self) -> int:
        return len(self.raw())


@pytest.fixture
def outbox(app) -> Outbox:
    url = app.config["MAIL_URL"]
    assert url.startswith("file:"), "the outbox fixture reads the file transport"
    return Outbox(Path(url[len("file:"):]))


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

    async def handle_DATA(self, _server, _session, envelope):  # aiosmtpd names its hooks so
        with self.server.lock:
            self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


class SMTPServer:
    """A real SMTP server on 127.0.0.1; stop() closes the port, start() opens it again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(_Sink(self), hostname="127.0.0.1", port=self.port)
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


def smtp_config(server: SMTPServer) -> dict:
    """Config that sends the app's mail to `server`."""
    return {"MAIL_URL": f"smtp://127.0.0.1:{server.port}", "MAIL_TIMEOUT": 5}
