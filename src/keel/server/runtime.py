"""What a running Keel process holds: settings, the engine, the session factory, plugins and the worker.

`prepare` is the start-up sequence shared by `keel serve` and in-process apps: check the database, migrate to
head, make sure an admin key exists. It is idempotent, so running it again on a live store is harmless.
"""

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from keel.core.errors import ConfigError, InvalidInput, Unavailable
from keel.core.secrets import SecretBox, load_box
from keel.db import migrate
from keel.db.changes import ChangeBus
from keel.db.engine import check_connection, make_engine, make_sessionmaker
from keel.jobs.worker import Worker
from keel.plugins.manager import Plugins
from keel.projects import service as projects
from keel.projects.auth_cache import PrincipalCache
from keel.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    plugins: Plugins
    secrets: SecretBox
    auth_cache: PrincipalCache = field(default_factory=lambda: PrincipalCache(0))
    worker: Worker | None = field(default=None)
    services: dict[str, Any] = field(default_factory=dict)
    changes: ChangeBus = field(default_factory=ChangeBus)  # what committed writes changed (keel.db.changes)

    def service(self, name: str) -> Any:
        try:
            return self.services[name]
        except KeyError:
            raise Unavailable(f"service {name!r} is not running in this process") from None


def open_runtime(settings: Settings, plugins: Plugins | None = None) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        connect_timeout=settings.db_connect_timeout,
    )
    check_connection(engine)
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    _bootstrap_admin_key(settings, sessions)
    secret_key = settings.secret_key.get_secret_value() if settings.secret_key else None
    box = load_box(secret_key, settings.data_dir / "secret.key")
    cache = PrincipalCache(settings.auth_cache_seconds)
    changes = ChangeBus()
    changes.attach(sessions)
    return Runtime(settings, engine, sessions, plugins or Plugins(), box, cache, changes=changes)


def _bootstrap_admin_key(settings: Settings, sessions: sessionmaker[Session]) -> None:
    configured = settings.admin_key.get_secret_value() if settings.admin_key else None
    path = settings.admin_key_path
    on_disk = path.read_text().strip() or None if path.exists() and not configured else None
    with sessions() as session:
        try:
            generated = projects.ensure_bootstrap_key(session, configured, on_disk)
        except InvalidInput as exc:
            raise ConfigError(exc.detail) from None
    if generated is None:
        return
    _write_private(path, generated + "\n")
    sys.stderr.write(
        f"\n  Keel generated an instance-admin API key (shown once, saved to {path}):\n\n    {generated}\n\n"
        f"  export KEEL_API_KEY={generated}\n\n"
    )


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
