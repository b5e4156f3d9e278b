"""One leader among replicas for background loops: a PostgreSQL session advisory lock held on a dedicated
connection (released by the server if the process dies); on SQLite there is one process, which leads."""

import contextlib
import logging
import threading
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

log = logging.getLogger("keel.db")


class Leader:
    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = engine
        self._key = zlib.crc32(f"keel.leader.{name}".encode())
        self._connection: Connection | None = None

    def held(self) -> bool:
        """Whether this process leads now (trying to become leader when nobody does)."""
        if self._engine.dialect.name != "postgresql":
            return True
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
                got = self._connection.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}
                ).scalar()
                self._connection.commit()
                if not got:
                    self.release()
                    return False
                return True
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except Exception:
            log.warning("leader connection lost; trying again next round")
            self.release()
            return False

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


class LeaderLoop(ABC):
    """A background loop that does its work (`tick`) every `interval()` seconds on the leader replica only;
    one failed round is logged and the next one tries again."""

    def __init__(self, engine: Engine, name: str, interval: Callable[[], float]) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"keel-{name}", daemon=True)
        self._leader = Leader(engine, name)
        self._interval, self._name = interval, name

    @abstractmethod
    def tick(self) -> object:
        """One round of the loop's work."""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._leader.release()

    def _run(self) -> None:
        while not self._stop.wait(self._interval()):
            try:
                if self._leader.held():
                    self.tick()
            except Exception:
                log.exception("%s round failed; will retry", self._name)
