"""Real `keel serve` processes on a free port, and the real CLI in subprocesses talking to them."""

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


def keel(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args], env=env, capture_output=True, text=True, timeout=60
    )
    if check and result.returncode != 0:
        raise AssertionError(f"keel {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def keel_json(*args: str, env: dict[str, str]) -> Any:
    return json.loads(keel(*args, "--json", env=env).stdout)


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    env: dict[str, str]

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=30)
        return self.process.returncode, stderr


def start_server(data_dir: Path, **env_extra: str) -> Server:
    port = free_port()
    env = clean_env(
        KEEL_DATA_DIR=str(data_dir), KEEL_PORT=str(port), **{"KEEL_LOCAL_PRELOAD": "false", **env_extra}
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "keel", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"keel serve exited {process.returncode}: {process.stderr.read()}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(url, data_dir, process, env)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("keel serve did not answer /healthz within 60 s")


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    extra = {}
    if getattr(request, "param", "sqlite") == "postgresql":
        extra["KEEL_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    running = start_server(tmp_path / "data", **extra)
    yield running
    if running.process.poll() is None:
        running.stop()
