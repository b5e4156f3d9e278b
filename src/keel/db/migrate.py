"""Alembic, driven from code: `keel serve` upgrades to head at start; `keel db ...` exposes the same calls.

On PostgreSQL the upgrade holds an advisory lock, so replicas starting together migrate once, in turn. A
store already at head is left alone without loading Alembic's scripts (one `SELECT` of alembic_version), so
a restart costs no migration work.
"""

import functools
import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from keel.db.base import Base

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MODEL_MODULES = (
    "keel.projects.models",
    "keel.jobs.models",
    "keel.tracing.models",
    "keel.gateway.models",
    "keel.prompts.models",
    "keel.datasets.models",
    "keel.evals.models",
    "keel.feedback.models",
    "keel.knowledge.models",
    "keel.guardrails.models",
    "keel.monitoring.models",
    "keel.finetune.models",
    "keel.loops.models",
)
_LOCK_ID = 0x6B65656C  # "keel"


def load_models() -> type[Base]:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head" and current(engine) == head():
        return
    config = alembic_config(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _LOCK_ID})
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                connection.commit()
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _LOCK_ID})
                connection.commit()
        return
    command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@functools.cache
def head() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def revisions() -> list[str]:
    """Revision ids from first to last."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]
