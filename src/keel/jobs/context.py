"""What a job handler sees: its params, and calls to report progress, log, and notice cancellation."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from keel.db.engine import Session, SessionFactory
from keel.jobs import service


class JobCancelled(Exception):
    """Raised inside a handler when someone cancelled the job."""


class WorkerStopping(Exception):
    """Raised inside a handler when the server shuts down; the job is requeued."""


class JobContext:
    _PROGRESS_INTERVAL = 0.25

    def __init__(
        self,
        job_id: str,
        project_id: str,
        params: dict[str, Any],
        attempt: int,
        sessions: SessionFactory,
        stopping: threading.Event,
    ) -> None:
        self.job_id = job_id
        self.project_id = project_id
        self.params = params
        self.attempt = attempt
        self._sessions = sessions
        self._stopping = stopping
        self.cancel_event = threading.Event()
        self._last_progress = 0.0
        self.services: dict[
            str, Any
        ] = {}  # the server's services (e.g. "evals"), for handlers that need them

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    def check(self) -> None:
        """Raise if the job was cancelled or the worker is stopping; call it between units of work."""
        if self.cancel_event.is_set():
            raise JobCancelled(self.job_id)
        if self._stopping.is_set():
            raise WorkerStopping(self.job_id)

    def progress(self, fraction: float, message: str | None = None) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_progress < self._PROGRESS_INTERVAL:
            self.check()
            return
        self._last_progress = now
        with self._sessions() as session:
            if service.record_progress(session, self.job_id, fraction, message):
                self.cancel_event.set()
        self.check()

    def log(self, message: str, level: str = "info") -> None:
        with self._sessions() as session:
            service.add_log(session, self.job_id, message, level)
