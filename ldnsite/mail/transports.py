"""Where messages go, chosen by FLASK_MAIL_URL.

- file:DIR                       one .eml file a message (the embedded default; tests read it)
- smtp://host:port               plain SMTP (a local relay)
- smtp+starttls://user:pass@host:port   STARTTLS, then AUTH
- smtps://user:pass@host:port    implicit TLS

A transport is opened once per batch and reused, so flushing a queue of a
hundred messages costs one SMTP connection, not a hundred.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ldnsite.db import utcnow


class PermanentFailure(Exception):
    """The server refused the message for good (5xx): retrying cannot help."""


class TransportUnavailable(Exception):
    """Could not connect, start TLS or log in: every message would fail the same way now."""


class Transport:
    def send(self, from_addr: str, to_addr: str, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class FileTransport(Transport):
    """Writes each message to DIR atomically: a temporary file in DIR, then os.replace.

    Why: a reader (a test, an operator's script) never sees half a message.
    """

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def send(self, from_addr: str, to_addr: str, data: bytes) -> None:
        try:
            self._write(data)
        except OSError as exc:  # a missing or full or read-only folder fails every message alike
            raise TransportUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def _write(self, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:12]}.eml"
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.directory / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class SMTPTransport(Transport):
    def __init__(
        self, host: str, port: int, *, mode: str, username: str | None, password: str | None, timeout: float, cafile: str | None = None
    ) -> None:
        self.host, self.port, self.mode = host, port, mode
        self.username, self.password, self.timeout = username, password, timeout
        self.cafile = cafile
        self._conn: smtplib.SMTP | None = None

    def _tls(self) -> ssl.SSLContext:
        """Certificates are always verified; MAIL_CA_FILE trusts a private CA instead of the system's."""
        return ssl.create_default_context(cafile=self.cafile)

    def _connect(self) -> smtplib.SMTP:
        if self._conn is None:
            try:
                self._conn = self._open()
            except (OSError, smtplib.SMTPException) as exc:
                raise TransportUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return self._conn

    def _open(self) -> smtplib.SMTP:
        if self.mode == "smtps":
            return self._logged_in(smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls()))
        return self._logged_in(smtplib.SMTP(self.host, self.port, timeout=self.timeout))

    def _logged_in(self, conn: smtplib.SMTP) -> smtplib.SMTP:
        try:
            if self.mode == "starttls":
                conn.starttls(context=self._tls())
            if self.username:
                conn.login(self.username, self.password or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, from_addr: str, to_addr: str, data: bytes) -> None:
        conn = self._connect()
        try:
            conn.sendmail(from_addr, [to_addr], data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            if 500 <= code < 600:
                raise PermanentFailure(f"{code} {reply!r}") from exc
            raise
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._conn = None  # the connection is gone: reconnect for the next message
            raise TransportUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._conn = None


def from_url(url: str, timeout: float = 10.0, cafile: str | None = None) -> Transport:
    """The transport FLASK_MAIL_URL names; ValueError for a scheme the site does not know."""
    if url.startswith("file:"):
        path = url[len("file:") :]
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise ValueError("file: mail URL needs a directory")
        return FileTransport(path)
    parts = urlsplit(url)
    modes = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "smtps"}
    if parts.scheme not in modes or not parts.hostname:
        raise ValueError(f"unsupported mail URL scheme: {parts.scheme!r}")
    default_port = {"plain": 25, "starttls": 587, "smtps": 465}[modes[parts.scheme]]
    if parts.username and modes[parts.scheme] == "plain":
        raise ValueError("SMTP credentials need smtp+starttls:// or smtps://, never a plain connection")
    return SMTPTransport(
        parts.hostname,
        parts.port or default_port,
        mode=modes[parts.scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
        cafile=cafile or None,
    )
