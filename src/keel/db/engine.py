"""Engine and session factory for SQLite (WAL) and PostgreSQL.

SQLite gets WAL, `synchronous=NORMAL`, foreign keys and a busy timeout on every connection, which lets the
server's request threads and the job worker read while one of them writes. A database that cannot be reached
becomes a `ConfigError` naming the URL (password hidden) instead of a driver traceback.
"""

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from keel.core.errors import ConfigError

SessionFactory = sessionmaker[Session]
__all__ = [
    "Engine",
    "Session",
    "SessionFactory",
    "check_connection",
    "make_engine",
    "make_sessionmaker",
    "redact_url",
]


def redact_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable url>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: trace ids are random, so index inserts scatter
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA wal_autocheckpoint=4000")
    cursor.close()


def make_engine(url: str, *, pool_size: int = 10, connect_timeout: float = 5.0) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"KEEL_DATABASE_URL {url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            connect_args={"connect_timeout": max(1, int(connect_timeout))},
        )
    raise ConfigError(
        f"database {parsed.get_backend_name()!r} is not supported: use sqlite:///path or postgresql+psycopg://"
    )


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(f"cannot connect to database {redact_url(str(engine.url))}: {reason}") from None
    except ModuleNotFoundError as exc:
        raise ConfigError(f"database driver missing for {engine.url.drivername}: {exc}") from None


def make_sessionmaker(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, expire_on_commit=False)
