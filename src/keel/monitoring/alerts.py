"""The `monitoring.alerts` service: evaluate every enabled rule each `KEEL_ALERT_INTERVAL_SECONDS` on the
leader replica, then send due notifications from a small pool, so one unreachable webhook never delays the
others. A failed delivery is retried with exponential backoff (1, 2, 4 … s, at most 5 min) and recorded as
`failed` with its last error after `KEEL_ALERT_DELIVERY_ATTEMPTS` tries.
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from keel.core.clock import utcnow
from keel.db.leader import LeaderLoop
from keel.monitoring import service
from keel.monitoring.channels import DeliveryError, deliver, payload
from keel.monitoring.models import AlertDelivery, AlertEvent, AlertRule

log = logging.getLogger("keel.monitoring")


class Alerts(LeaderLoop):
    def __init__(self, runtime: Any) -> None:
        super().__init__(runtime.engine, "alerts", lambda: runtime.settings.alert_interval_seconds)
        self._runtime = runtime
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="keel-alert-delivery")
        self._sending: set[str] = set()
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        settings = self._runtime.settings
        return settings.public_url or f"http://{settings.host}:{settings.port}"

    def stop(self) -> None:
        super().stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def tick(self) -> None:
        self.evaluate_all()
        self.send_due()

    def evaluate_all(self) -> int:
        """Evaluate every enabled rule, one transaction each (one broken rule cannot stop the rest)."""
        with self._runtime.sessions() as session:
            ids = service.enabled_rule_ids(session)
        events = 0
        for rule_id in ids:
            try:
                with self._runtime.sessions() as session:
                    rule = session.get(AlertRule, rule_id)
                    if rule is not None and service.evaluate(session, rule, utcnow(), self.base_url):
                        events += 1
                    session.commit()
            except Exception:
                log.exception("alert rule %s could not be evaluated", rule_id)
        return events

    def send_due(self) -> None:
        now = utcnow()
        with self._runtime.sessions() as session:
            due = service.due_deliveries(session, now)
        for delivery_id in due:
            with self._lock:
                if delivery_id in self._sending:
                    continue
                self._sending.add(delivery_id)
            self._pool.submit(self._send, delivery_id)

    def _send(self, delivery_id: str) -> None:
        settings = self._runtime.settings
        try:
            with self._runtime.sessions() as session:
                delivery = session.get(AlertDelivery, delivery_id)
                if delivery is None or delivery.status != "pending":
                    return
                event = session.get(AlertEvent, delivery.event_id)
                rule = session.get(AlertRule, event.rule_id) if event else None
                if event is None or rule is None or delivery.channel >= len(rule.channels):
                    delivery.status, delivery.last_error = "failed", "the rule or its channel was removed"
                    session.commit()
                    return
                channel, body = rule.channels[delivery.channel], payload(event, rule)
            error = None
            try:
                deliver(channel, body, self._runtime.secrets, settings, delivery_id)
            except DeliveryError as exc:
                error = str(exc)[:2000]
            with self._runtime.sessions() as session:
                delivery = session.get(AlertDelivery, delivery_id)
                if delivery is None:
                    return
                delivery.attempts += 1
                if error is None:
                    delivery.status, delivery.delivered_at, delivery.last_error = "delivered", utcnow(), None
                else:
                    delivery.last_error = error
                    if delivery.attempts >= settings.alert_delivery_attempts:
                        delivery.status = "failed"
                    else:
                        backoff = min(2 ** (delivery.attempts - 1), 300)
                        delivery.next_attempt_at = utcnow() + timedelta(seconds=backoff)
                    log.warning(
                        "alert delivery %s failed (attempt %d): %s", delivery_id, delivery.attempts, error
                    )
                session.commit()
        except Exception:
            log.exception("alert delivery %s crashed", delivery_id)
        finally:
            with self._lock:
                self._sending.discard(delivery_id)
