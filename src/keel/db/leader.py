"""One leader among replicas for background loops: a PostgreSQL session advisory lock held on a dedicated
connection (released by the server if the process dies); on SQLite there is one process, which leads."""

import contextlib
import logging
import zlib

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
