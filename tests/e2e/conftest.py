"""Real `keel serve` processes on a free port, and the real CLI talking to them over a socket.

One server per test module (`server`), since starting one costs seconds; tests that stop or restart their
server take `own_server` or start their own. The CLI runs in-process through Click's runner unless a test
needs the process itself (`keel serve`, exit codes of a crash): the commands, the HTTP client and the
socket are the same, without paying an interpreter start per call. An exception escaping a command
in-process fails the test, as its traceback would in a terminal.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    return {**env, **extra}


def keel_process(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """The CLI as a user's shell runs it: a new interpreter, `python -m keel`."""
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args], env=env, capture_output=True, text=True, timeout=60
    )
    if check and result.returncode != 0:
        raise AssertionError(f"keel {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def keel(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """The CLI in this process (a server command still gets its own process)."""
    if args and args[0] == "serve":
        return keel_process(*args, env=env, check=check)
    from typer.testing import CliRunner

    from keel.cli.main import app

    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KEEL_")}
    overrides.update({k: v for k, v in env.items() if k.startswith("KEEL_") or k in PASSED_VARIABLES})
    outcome = CliRunner().invoke(app, list(args), env=overrides)
    if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
        raise outcome.exception
    result = subprocess.CompletedProcess(["keel", *args], outcome.exit_code, outcome.stdout, outcome.stderr)
    if check and result.returncode != 0:
        raise AssertionError(f"keel {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


PASSED_VARIABLES = {"COLUMNS", "TEST_OPENAI_KEY"}


def keel_json(*args: str, env: dict[str, str]) -> Any:
    return json.loads(keel(*args, "--json", env=env).stdout)


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    env: dict[str, str]
    log: Path

    def stop(self) -> tuple[int, str]:
        """SIGTERM, wait, and the exit code with what the server wrote to stderr."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        return self.process.returncode, self.log.read_text()


def start_server(data_dir: Path, **env_extra: str) -> Server:
    port = free_port()
    env = clean_env(
        KEEL_DATA_DIR=str(data_dir), KEEL_PORT=str(port), **{"KEEL_LOCAL_PRELOAD": "false", **env_extra}
    )
    # Output goes to a file, not a pipe: a pipe nobody reads fills at 64 KiB of access log and the server
    # blocks on its next log line (1,000 requests are enough).
    log = data_dir.parent / f"serve-{port}.log"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "keel", "serve"], env=env, stdout=sink, stderr=sink, text=True
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"keel serve exited {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(url, data_dir, process, env, log)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("keel serve did not answer /healthz within 60 s")


def _serve(request: pytest.FixtureRequest, data_dir: Path, database: str) -> Iterator[Server]:
    extra = {}
    if getattr(request, "param", "sqlite") == "postgresql":
        extra["KEEL_DATABASE_URL"] = request.getfixturevalue(database)
    running = start_server(data_dir, **extra)
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module's tests (each creates what it needs under its own names)."""
    yield from _serve(request, tmp_path_factory.mktemp("server") / "data", "module_postgres_url")


@pytest.fixture
def own_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server of the test's own, for tests that stop it."""
    yield from _serve(request, tmp_path / "data", "postgres_url")
