"""Start a real `keel serve` for a benchmark and read its CPU time from /proc (Linux)."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class RunningServer:
    url: str
    pid: int
    admin_key: str

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextmanager
def keel_server(**env_extra: str) -> Iterator[RunningServer]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = os.environ.get("KEEL_BENCH_SERVER_LOG", os.devnull)
    with tempfile.TemporaryDirectory() as data_dir, open(log_path, "w") as log:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
        env.update(
            KEEL_DATA_DIR=data_dir,
            KEEL_PORT=str(port),
            KEEL_LOG_LEVEL="warning",
            KEEL_LOCAL_PRELOAD="false",
            **env_extra,
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "keel", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            key = Path(data_dir, "admin.key").read_text().strip()
            yield RunningServer(url, process.pid, key)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
