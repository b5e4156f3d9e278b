"""The same OTLP workload against Keel and Arize Phoenix, in the same run: how fast spans become queryable.

4,000 GenAI spans (2,000 two-span traces) in 500-span protobuf batches, sent back to back. Reported: how long
until the server accepted them all, how long until all were queryable (Keel: its trace API; Phoenix: rows in
its own SQLite store), and the server's CPU per span. Phoenix comes from `.venv-phoenix` (`make bench`
creates it with `pip install arize-phoenix`).
"""

import os
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.otlp_payloads import genai_batches
from benchmarks.server import CLOCK_TICKS, keel_server

SPANS = 4000
PHOENIX = Path(__file__).resolve().parents[1] / ".venv-phoenix" / "bin" / "phoenix"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def send(url: str, headers: dict[str, str], bodies: list[bytes]) -> float:
    started = time.perf_counter()
    with httpx.Client(headers={**headers, "Content-Type": "application/x-protobuf"}, timeout=120) as client:
        for body in bodies:
            client.post(url, content=body).raise_for_status()
    return time.perf_counter() - started


def wait_until(count: Any, expected: int, started: float, limit: float = 300) -> float | None:
    while time.perf_counter() - started < limit:
        if count() >= expected:
            return time.perf_counter() - started
        time.sleep(0.05)
    return None


def row(server: str, accepted_s: float, queryable_s: float | None, cpu: float) -> dict[str, Any]:
    return {
        "server": server,
        "spans": SPANS,
        "accept_spans_per_s": SPANS / accepted_s,
        "queryable_after_s": queryable_s if queryable_s is not None else float("nan"),
        "queryable_spans_per_s": SPANS / queryable_s if queryable_s else 0.0,
        "server_cpu_ms_per_span": cpu / SPANS * 1000,
    }


def keel_run(bodies: list[bytes]) -> dict[str, Any]:
    with keel_server(KEEL_WORKER_ENABLED="false") as server:
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        before = server.cpu_seconds()
        started = time.perf_counter()
        accepted = send(f"{server.url}/v1/traces", headers, bodies)

        def count() -> int:
            rows = httpx.get(
                f"{server.url}/api/v1/traces/aggregates", params={"bucket": "1d"}, headers=headers
            ).json()["items"]
            return 2 * sum(r["count"] for r in rows)

        queryable = wait_until(count, SPANS, started)
        return row("keel (sqlite)", accepted, queryable, server.cpu_seconds() - before)


def phoenix_run(bodies: list[bytes]) -> dict[str, Any]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as workdir:
        env = {
            **os.environ,
            "PHOENIX_WORKING_DIR": workdir,
            "PHOENIX_PORT": str(port),
            "PHOENIX_GRPC_PORT": str(port + 1),
            "PHOENIX_HOST": "127.0.0.1",
        }
        process = subprocess.Popen(
            [str(PHOENIX), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(1200):
                try:
                    if httpx.get(url, timeout=1).status_code < 500:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            database = Path(workdir) / "phoenix.db"

            def count() -> int:
                with sqlite3.connect(database) as conn:
                    return int(conn.execute("SELECT count(*) FROM spans").fetchone()[0])

            before = cpu_seconds(process.pid)
            started = time.perf_counter()
            accepted = send(f"{url}/v1/traces", {}, bodies)
            queryable = wait_until(count, SPANS, started)
            return row("arize-phoenix (sqlite)", accepted, queryable, cpu_seconds(process.pid) - before)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)


def run() -> list[dict[str, Any]]:
    bodies = genai_batches(SPANS, 500)
    rows = [keel_run(bodies)]
    if not PHOENIX.exists():
        return rows
    rows.append(phoenix_run(genai_batches(SPANS, 500)))
    keel, phoenix = rows
    if phoenix["queryable_spans_per_s"]:
        rows.append(
            {
                "server": "ratio keel/phoenix",
                "spans": SPANS,
                "accept_spans_per_s": keel["accept_spans_per_s"] / phoenix["accept_spans_per_s"],
                "queryable_after_s": phoenix["queryable_after_s"] / keel["queryable_after_s"],
                "queryable_spans_per_s": keel["queryable_spans_per_s"] / phoenix["queryable_spans_per_s"],
                "server_cpu_ms_per_span": phoenix["server_cpu_ms_per_span"] / keel["server_cpu_ms_per_span"],
            }
        )
    return rows
