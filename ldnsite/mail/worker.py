"""The background mail worker: one daemon thread per process, so no request ever waits on SMTP.

Why a thread started lazily in each process rather than a gunicorn hook or a
separate service: gunicorn forks its workers after importing nothing (no
--preload), `flask run` serves from one process, and a worker killed by its
timeout is replaced by a fresh process. A thread that every process starts
for itself on its first commit or request (checked by pid, so a forked child
never trusts its parent's dead thread) therefore runs under `make run`, under
`gunicorn app:app` with any number of workers, and on every node, with no
setting to forget. Several threads on several nodes are safe together: each
message is claimed with a conditional UPDATE and a lease (delivery.py), so it
is sent once, and a message held by a process that died is retried after the
lease. The thread wakes when a commit queued mail, and every
MAIL_WORKER_INTERVAL seconds for retries that have come due.
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask

from ldnsite.mail.delivery import deliver

log = logging.getLogger(__name__)

EXTENSION = "ldnsite.mail.worker"


class MailWorker:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = float(app.config["MAIL_WORKER_INTERVAL"])
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self.idle = threading.Event()  # set while the worker waits with nothing in hand (tests wait on it)

    def ensure_started(self) -> None:
        """Start this process's thread if it has none yet (a forked child starts its own)."""
        pid = os.getpid()
        if self._pid == pid and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == pid and self._thread is not None and self._thread.is_alive():
                return
            self._wake, self._stop, self.idle = threading.Event(), threading.Event(), threading.Event()
            self._pid = pid
            self._thread = threading.Thread(target=self._run, name="mail-worker", daemon=True)
            self._thread.start()

    def kick(self) -> None:
        """New mail was committed: send it now, from the worker thread."""
        self.ensure_started()
        self.idle.clear()
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._pid == os.getpid():
            self._thread.join(timeout)

    def _run(self) -> None:
        # Start with a pass: retries may have come due while no process was running.
        self._wake.set()
        while not self._stop.is_set():
            if not self._wake.wait(self.interval):
                self.idle.clear()
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                with self.app.app_context():
                    deliver(self.app, due_only=True)
            except Exception:  # the thread must outlive a database or relay fault
                log.exception("mail worker: delivery pass failed; messages stay queued")
            if not self._wake.is_set():
                self.idle.set()


def get(app: Flask) -> MailWorker:
    worker = app.extensions.get(EXTENSION)
    if worker is None:
        worker = app.extensions.setdefault(EXTENSION, MailWorker(app))
    return worker


def init_app(app: Flask) -> None:
    """Each serving process starts its worker with its first request, so idle retries are sent too."""
    if app.config["MAIL_DELIVERY"] != "worker" or not app.config["MAIL_DELIVER_ON_COMMIT"]:
        return

    @app.before_request
    def _start_mail_worker() -> None:
        get(app).ensure_started()
