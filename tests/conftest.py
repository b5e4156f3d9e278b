"""Shared fixtures: store tests run on SQLite and on a fresh PostgreSQL database they create and drop.

Both start from a database migrated once per run: PostgreSQL databases are created from a template
database (`CREATE DATABASE ... TEMPLATE`, named after a hash of the migrations, built under an advisory lock
so parallel workers build it once), SQLite files are copies of one migrated file. The app's start-up
upgrade then finds the store at head and does nothing, as it would on any restart.
"""

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from keel.db import migrate
from keel.db.engine import make_engine
from keel.projects.keys import generate_secret
from keel.server.app import create_app
from keel.settings import Settings

for _name in [n for n in os.environ if n.startswith("KEEL_") and not n.startswith("KEEL_TEST_")]:
    del os.environ[_name]  # the suite builds its own settings; a developer's KEEL_* must not leak in
os.environ["KEEL_LOCAL_PRELOAD"] = "false"  # apps load the local models only in tests that ask for them
os.environ.pop("COLUMNS", None)  # xdist workers export COLUMNS=80, which would fix the CLI's table width
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TOKENIZERS_PARALLELISM"):
    os.environ.setdefault(_var, "1" if _var != "TOKENIZERS_PARALLELISM" else "false")

PG_HOST = os.environ.get("KEEL_TEST_PG_HOST", "127.0.0.1")
PG_ADMIN = f"host={PG_HOST} port=5432 user=postgres dbname=postgres"
ADMIN_KEY = generate_secret()


@pytest.fixture(scope="session")
def postgres_available() -> None:
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL must run on {PG_HOST}:5432 with trust auth for the store tests: {exc}")


def pg_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@{PG_HOST}:5432/{name}"


def schema_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((migrate.MIGRATIONS_DIR / "versions").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


TEMPLATE_LOCK = 0x6B65656C + 1


@pytest.fixture(scope="session")
def postgres_template(postgres_available: None) -> str:
    """A database at head to copy from; built once per migration set, whichever worker gets here first."""
    name = f"keel_template_{schema_hash()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (TEMPLATE_LOCK,))
        try:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                building = f"{name}_build_{uuid.uuid4().hex[:6]}"
                conn.execute(f'CREATE DATABASE "{building}"')
                engine = make_engine(pg_url(building))
                migrate.upgrade(engine)
                engine.dispose()
                conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (TEMPLATE_LOCK,))
    return name


def create_database(template: str | None = None) -> str:
    name = f"keel_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(template: str | None = None) -> Iterator[str]:
    """The URL of a new database (a copy of `template`, or empty), dropped afterwards."""
    name = create_database(template)
    try:
        yield pg_url(name)
    finally:
        drop_database(name)


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database already at head."""
    with fresh_database(postgres_template) as url:
        yield url


@pytest.fixture(scope="module")
def module_postgres_url(postgres_template: str) -> Iterator[str]:
    """A PostgreSQL database at head shared by a module (for its one server)."""
    with fresh_database(postgres_template) as url:
        yield url


@pytest.fixture
def empty_postgres_url(postgres_available: None) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (for the migration tests)."""
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "keel.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store at head on each dialect: a copy of the migrated SQLite file, or a copy of the template."""
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "keel.db")
        return f"sqlite:///{tmp_path / 'keel.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store on each dialect, for tests of the migrations themselves."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url: str = request.getfixturevalue("empty_postgres_url")
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        admin_key=ADMIN_KEY,
        job_poll_seconds=0.05,
        job_heartbeat_seconds=0.2,
        shutdown_grace_seconds=2,
        local_preload=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=bearer(ADMIN_KEY)) as test_client:
        yield test_client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
