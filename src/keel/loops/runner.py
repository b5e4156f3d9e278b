"""The `loops.runner` service: every `KEEL_LOOP_TICK_SECONDS`, on the leader replica, move each running loop
run one stage further, and start new runs whose trigger fired (a cron schedule came due, or the selector
finds `min_new_traces` new traces; that check runs at most once a minute per loop)."""

import logging
import time
from typing import Any

from keel.core.clock import utcnow
from keel.datasets import selection_service as selection
from keel.datasets.schemas import SelectIn
from keel.db.leader import LeaderLoop
from keel.loops import loop_service as loops
from keel.loops.models import Loop, LoopRun

log = logging.getLogger("keel.loops")
TRACE_CHECK_SECONDS = 60.0


class LoopRunner(LeaderLoop):
    def __init__(self, runtime: Any) -> None:
        super().__init__(runtime.engine, "loops", lambda: runtime.settings.loop_tick_seconds)
        self._runtime = runtime
        self._checked: dict[str, float] = {}

    def tick(self) -> None:
        """Advance every running run, then start the runs whose trigger fired."""
        sessions, roots = self._runtime.sessions, self._runtime.settings.finetune_model_roots
        with sessions() as session:
            running = loops.running_ids(session)
        for run_id in running:
            try:
                loops.advance(sessions, run_id, roots)
            except Exception as exc:
                log.exception("loop run %s failed at its stage", run_id)
                with sessions() as session:
                    run = session.get_one(LoopRun, run_id)
                    loops.finish(run, "failed", f"{type(exc).__name__}: {exc}"[:2000])
                    session.commit()
        with sessions() as session:
            ids = loops.enabled_ids(session)
        for loop_id in ids:
            try:
                self._trigger(loop_id)
            except Exception:
                log.exception("loop %s trigger check failed", loop_id)

    def _trigger(self, loop_id: str) -> None:
        with self._runtime.sessions() as session:
            loop = session.get_one(Loop, loop_id)
            if loops.active(session, loop.id) is not None:
                return
            spec, now = loops.spec_of(loop), utcnow()
            if loop.next_run_at is not None and loop.next_run_at <= now:
                loop.next_run_at = loops.next_time(spec, now)
                session.commit()
                loops.start(session, loop, "schedule")
                return
            wanted = spec.trigger.min_new_traces
            if wanted is None or time.monotonic() - self._checked.get(loop_id, -1e9) < TRACE_CHECK_SECONDS:
                return
            self._checked[loop_id] = time.monotonic()
            request = SelectIn(**spec.selector.model_dump(), dry_run=True)
            found = selection.select_into(session, loops.acting(loop), spec.dataset, request)
            if found.selected >= wanted:
                loops.start(session, loop, "traces")
