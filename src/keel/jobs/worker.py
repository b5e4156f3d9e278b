"""The local worker: threads that claim queued jobs from the store and run their handlers.

One maintenance thread heartbeats this worker's running jobs, relays cancellation requests into them and
reaps jobs whose worker died (this process's predecessor after a crash, or another replica). On shutdown the
worker asks running handlers to stop at their next `ctx.check()` and requeues what they leave unfinished.
"""

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from keel.core.clock import utcnow
from keel.core.ids import new_id
from keel.db.engine import SessionFactory
from keel.jobs import service
from keel.jobs.context import JobCancelled, JobContext, WorkerStopping
from keel.jobs.settings import JobSettings
from keel.plugins.registry import Registry

log = logging.getLogger("keel.jobs")
Handler = Callable[[JobContext], dict[str, Any] | None]


class Worker:
    def __init__(
        self,
        sessions: SessionFactory,
        kinds: Registry[Handler],
        settings: JobSettings,
        services: dict[str, Any] | None = None,
    ) -> None:
        self.services = services if services is not None else {}
        self.id = f"{socket.gethostname()}:{os.getpid()}:{new_id('wrk')[-6:]}"
        self._sessions = sessions
        self._kinds = kinds
        self._settings = settings
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: dict[str, JobContext] = {}
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return bool(self._threads) and all(thread.is_alive() for thread in self._threads)

    def start(self) -> None:
        self.reap()
        targets = [self._maintain] + [self._run_loop] * self._settings.worker_threads
        for number, target in enumerate(targets):
            thread = threading.Thread(target=target, name=f"keel-worker-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("job worker %s started with kinds: %s", self.id, ", ".join(self._kinds) or "none")

    def stop(self, grace: float) -> None:
        self._stopping.set()
        deadline = utcnow() + timedelta(seconds=grace)
        for thread in self._threads:
            thread.join(max(0.0, (deadline - utcnow()).total_seconds()))
        self._threads.clear()

    def run_once(self) -> bool:
        """Claim and run one job; False when nothing was queued."""
        with self._sessions() as session:
            job = service.claim_next(session, self.id, list(self._kinds))
            if job is None:
                return False
            ctx = JobContext(
                job.id, job.project_id, dict(job.params), job.attempts, self._sessions, self._stopping
            )
            ctx.services = self.services
        with self._lock:
            self._running[ctx.job_id] = ctx
        try:
            self._execute(ctx, job.kind)
        finally:
            with self._lock:
                self._running.pop(ctx.job_id, None)
        return True

    def _execute(self, ctx: JobContext, kind: str) -> None:
        ctx.log(f"attempt {ctx.attempt} started on {self.id}")
        try:
            result = self._kinds.get(kind)(ctx)
        except JobCancelled:
            self._finish(ctx, "cancelled")
        except WorkerStopping:
            with self._sessions() as session:
                service.requeue_interrupted(session, ctx.job_id, self.id)
        except Exception as exc:
            ctx.log("".join(traceback.format_exception(exc)), level="error")
            self._finish(ctx, "failed", error=f"{type(exc).__name__}: {exc}")
        else:
            self._finish(ctx, "succeeded", result=result)

    def _finish(self, ctx: JobContext, status: str, **outcome: Any) -> None:
        with self._sessions() as session:
            service.finish(session, ctx.job_id, self.id, status, **outcome)
        log.info("job %s %s", ctx.job_id, status, extra={"job_id": ctx.job_id})

    def _run_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = self.run_once()
            except Exception:
                log.exception("job worker loop error; retrying")
                worked = False
            if not worked:
                self._stopping.wait(self._settings.job_poll_seconds)

    def _maintain(self) -> None:
        while not self._stopping.wait(self._settings.job_heartbeat_seconds):
            try:
                self.heartbeat()
                self.reap()
            except Exception:
                log.exception("job maintenance error; retrying")

    def heartbeat(self) -> None:
        with self._sessions() as session:
            cancelled = service.heartbeat(session, self.id)
        with self._lock:
            for job_id in cancelled:
                if job_id in self._running:
                    self._running[job_id].cancel_event.set()

    def reap(self) -> None:
        stale_before = utcnow() - timedelta(seconds=self._settings.job_stale_seconds)
        with self._sessions() as session:
            for job_id, status in service.reap_stale(session, stale_before):
                log.warning("job %s lost its worker; now %s", job_id, status, extra={"job_id": job_id})
