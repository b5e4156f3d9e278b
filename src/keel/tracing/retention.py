"""Background retention: every `KEEL_TRACE_SWEEP_SECONDS`, delete traces past their project's retention in
bounded batches, so a sweep never holds a long write lock over the trace store."""

import logging
import threading
from typing import Any

from keel.tracing import queries, service

log = logging.getLogger("keel.tracing")


class RetentionSweeper:
    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="keel-trace-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def sweep_once(self) -> int:
        settings = self._runtime.settings
        with self._runtime.sessions() as session:
            projects = queries.project_ids_with_traces(session)
            deleted = service.sweep_expired(
                session, projects, settings.trace_retention_days, settings.trace_sweep_batch
            )
        if deleted:
            log.info("retention deleted %d expired spans", deleted)
        return deleted

    def _run(self) -> None:
        while not self._stop.wait(self._runtime.settings.trace_sweep_seconds):
            try:
                self.sweep_once()
            except Exception:
                log.exception("trace retention sweep failed; will retry")
