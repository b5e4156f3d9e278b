"""In-process change events: service writes say what they changed, subscribers hear of it after the commit.

A service records a change on its session (`record(session, topic, project_id, key)`); when that session's
transaction commits, every change it recorded is published to the bus the session factory is attached to,
once; a rollback drops them. Caches subscribe (the gateway's configuration view, the prompt label cache,
circuit breakers), so no route or page invalidates a cache by hand and nothing is invalidated for a write
that did not happen. This is the one place where a replica's changes will reach the others later
(PostgreSQL LISTEN/NOTIFY or Redis pub/sub).
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("keel.db")
PENDING = "keel.changes"


@dataclass(frozen=True)
class Change:
    topic: str  # e.g. "gateway.config", "prompts.label"
    project_id: str
    key: str | None = None  # what within the project, when a subscriber cares (a route or prompt name)


Subscriber = Callable[[Change], None]


class ChangeBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._lock = threading.Lock()
        self.published = 0

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.setdefault(topic, []).append(subscriber)

    def publish(self, change: Change) -> None:
        self.published += 1
        for subscriber in list(self._subscribers.get(change.topic, ())):
            try:
                subscriber(change)
            except Exception:  # one broken subscriber must not stop the others or fail the write
                log.exception("change subscriber failed for %s", change.topic)

    def attach(self, sessions: "sessionmaker[Session]") -> None:
        """Publish what each session of `sessions` records, when its transaction commits."""
        event.listen(sessions, "after_commit", self._committed)
        event.listen(sessions, "after_rollback", _dropped)

    def _committed(self, session: Session) -> None:
        for change in dict.fromkeys(session.info.pop(PENDING, [])):
            self.publish(change)


def _dropped(session: Session) -> None:
    session.info.pop(PENDING, None)


def record(session: Any, topic: str, project_id: str, key: str | None = None) -> None:
    """Say that this transaction changes `topic` for a project; subscribers hear of it after the commit."""
    session.connection()  # a transaction is open, so its commit (or rollback) is seen
    session.info.setdefault(PENDING, []).append(Change(topic, project_id, key))
