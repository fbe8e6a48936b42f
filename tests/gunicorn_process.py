"""A real gunicorn (2 workers) serving the site from a scratch folder, for faults that need real processes.

Why real processes: per-process background threads, forks and locks across
processes cannot be shown with the in-process test client. The server binds
127.0.0.1 on a free port, and is stopped (its whole process group) when the
`with` block ends, even if the test fails.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "FLASK_SECRET_KEY": "test-secret-key",
            "FLASK_DATABASE_URL": f"sqlite:///{tmp / 'site.db'}",
            "FLASK_INDEX_DIR": str(tmp / "index"),
            "FLASK_MAIL_URL": f"file:{tmp / 'outbox'}",
            "FLASK_RATELIMIT_ENABLED": "false",
            "FLASK_SITE_URL": "http://127.0.0.1",
        }
    )
    env.update(extra)
    return env


def flask(env: dict[str, str], *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 2, timeout: int = 30):
    port = free_port()
    log = open(Path(env["FLASK_INDEX_DIR"]).parent / f"gunicorn-{port}.log", "w+")
    proc = subprocess.Popen(
        [str(GUNICORN), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--timeout", str(timeout), "app:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError("gunicorn did not start:\n" + log.read()) from None
                time.sleep(0.1)
        server = Server(base, proc)
        server.log = log
        yield server
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


class Server:
    def __init__(self, base: str, proc: subprocess.Popen) -> None:
        self.base, self.proc = base, proc
        self.log = None

    def client(self) -> Browser:
        return Browser(self.base)

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()


class Browser:
    """Cookies, and forms sent with the CSRF token of the page they came from."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def request(self, path: str, data: dict | None = None, timeout: float = 60) -> tuple[int, dict, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode()

    def submit(self, path: str, data: dict, form_page: str | None = None) -> tuple[int, dict, str]:
        _, _, page = self.request(form_page or path)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        return self.request(path, {"csrf_token": token, **data})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
