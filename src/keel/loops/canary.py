"""The `loops.canary` service: every `KEEL_CANARY_TICK_SECONDS`, on the leader replica, judge each running
canary in its own transaction and send each decision to the canary's channels (in a small pool, retried a
few times; a dead webhook never delays the judge). A restart resumes where the stored state says.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from keel.db.leader import LeaderLoop
from keel.gateway import canary_service as canary
from keel.gateway.models import Route
from keel.loops import canary_service
from keel.loops.models import CanaryDecision
from keel.monitoring.channels import DeliveryError, deliver

log = logging.getLogger("keel.loops")
DELIVERY_ATTEMPTS = 3


class Canaries(LeaderLoop):
    def __init__(self, runtime: Any) -> None:
        super().__init__(runtime.engine, "canary", lambda: runtime.settings.canary_tick_seconds)
        self._runtime = runtime
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="keel-canary-notify")

    def stop(self) -> None:
        super().stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def tick(self) -> int:
        return self.judge_all()

    def judge_all(self) -> int:
        """Judge every running canary once; returns how many decisions were made."""
        with self._runtime.sessions() as session:
            ids = [route.id for route in canary.live(session)]
        made = 0
        for route_id in ids:
            try:
                with self._runtime.sessions() as session:
                    route = session.get(Route, route_id)
                    if route is None or not route.canary or route.canary["state"] != "running":
                        continue
                    decision = canary_service.analyse(session, route)
                    channels = route.canary["spec"]["notify"]
                    session.commit()
                if decision is not None:
                    made += 1
                    log.info("canary %s on %s: %s", decision.action, decision.route, decision.reason)
                    if channels:
                        self.notify(decision.id, channels)
            except Exception:
                log.exception("canary on route %s could not be judged", route_id)
        return made

    def notify(self, decision_id: str, channels: list[dict[str, Any]]) -> None:
        self._pool.submit(self._send, decision_id, channels)

    def _send(self, decision_id: str, channels: list[dict[str, Any]]) -> None:
        with self._runtime.sessions() as session:
            decision = session.get(CanaryDecision, decision_id)
            if decision is None:
                return
            body = payload(decision, self._runtime.settings)
        results = []
        for channel in channels:
            error = None
            for attempt in range(DELIVERY_ATTEMPTS):
                try:
                    deliver(channel, body, self._runtime.secrets, self._runtime.settings, decision_id)
                    error = None
                    break
                except DeliveryError as exc:
                    error = str(exc)[:500]
                    time.sleep(min(2**attempt, 10))
            results.append(f"{channel['type']}: {'delivered' if error is None else error}")
        with self._runtime.sessions() as session:
            decision = session.get(CanaryDecision, decision_id)
            if decision is not None:
                decision.notified = "; ".join(results)
                session.commit()


def payload(decision: CanaryDecision, settings: Any) -> dict[str, Any]:
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    return {
        "event": f"canary.{decision.action}",
        "id": decision.id,
        "project_id": decision.project_id,
        "route": decision.route,
        "canary_id": decision.canary_id,
        "step": decision.step,
        "weight": decision.weight,
        "verdict": decision.verdict,
        "score": decision.score,
        "message": f"canary on {decision.route}: {decision.reason}",
        "metrics": decision.metrics,
        "traces_url": f"{base}/ui/routes/{decision.route}/canary",
        "at": decision.at.isoformat(),
    }
