"""Restoring a missing or damaged index in the background, never inside a request.

Why: building the index of a large forum takes longer than a request may
run (gunicorn kills a worker after 30 s), and every worker that tried would
start its own build. Instead a search that finds no usable index answers at
once (503 with Retry-After, see routes.py) and asks for a repair: one daemon
thread in this process tries the rebuild lock without waiting, so across all
workers and processes of a node exactly one rebuild runs; the others see the
lock held and do nothing. Posts made meanwhile stay in the outbox, which the
rebuild applies before and after it swaps the new index in.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

log = logging.getLogger(__name__)


class IndexUnavailable(RuntimeError):
    """No usable index right now; a background rebuild has been asked for."""


class Repairer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def request(self, reason: str, wait: bool = False) -> None:
        """Start the background rebuild unless one is running here; wait=True joins it (the tests' setting)."""
        with self._lock:
            if not self.running:
                log.warning("search: index unusable (%s); rebuilding in the background", reason)
                self._thread = threading.Thread(target=self._run, name="index-rebuild", daemon=True)
                self._thread.start()
            thread = self._thread
        if wait:
            thread.join()

    def _run(self) -> None:
        indexer = self.app.extensions["search_indexer"]
        try:
            with self.app.app_context():
                report = indexer.rebuild(wait=False)
            if report is None:
                log.info("search: another process is rebuilding the index")
            else:
                log.warning("search: index rebuilt in the background: %s documents in %.1f s", report["documents"], report["seconds"])
        except Exception:
            log.exception("search: background rebuild failed; the next search asks again")


def get(app: Flask) -> Repairer:
    return app.extensions.setdefault("search_repairer", Repairer(app))
