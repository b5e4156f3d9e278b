"""OTLP trace ingest: sustained spans/s and server CPU per span, SQLite and PostgreSQL.

A separate load-generator process replays pre-encoded OTLP/protobuf batches of GenAI spans (500 spans per
request, 4 concurrent connections) against a real `keel serve`. Every span is acknowledged only after its
batch is committed; the run then checks all traces are queryable. CPU ms per span (server process) is the
stable figure; spans/s depends on what else the 2-core machine is doing.
"""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg

from benchmarks.otlp_payloads import genai_batches
from benchmarks.server import keel_server

SPANS = 60_000
PER_BATCH = 500
CONNECTIONS = 4


def replay(url: str, key: str, bodies: list[bytes]) -> float:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-protobuf"}
    clients = [httpx.Client(base_url=url, headers=headers, timeout=120) for _ in range(CONNECTIONS)]

    def send(index: int) -> None:
        response = clients[index % CONNECTIONS].post("/v1/traces", content=bodies[index])
        while response.status_code == 503:
            time.sleep(float(response.headers.get("retry-after", "1")))
            response = clients[index % CONNECTIONS].post("/v1/traces", content=bodies[index])
        response.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        list(pool.map(send, range(len(bodies))))
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    return elapsed


def one_run(store: str, **env: str) -> dict[str, Any]:
    bodies = genai_batches(SPANS, PER_BATCH)
    with keel_server(KEEL_WORKER_ENABLED="false", **env) as server:
        warm = genai_batches(2000, PER_BATCH)
        replay(server.url, server.admin_key, warm)
        cpu_before = server.cpu_seconds()
        elapsed = replay(server.url, server.admin_key, bodies)
        cpu = server.cpu_seconds() - cpu_before
        acked = time.perf_counter()
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        rows = httpx.get(
            f"{server.url}/api/v1/traces/aggregates", params={"bucket": "1d"}, headers=headers, timeout=60
        ).json()["items"]
        visible = sum(row["count"] for row in rows)
        query_s = time.perf_counter() - acked
    traces_expected = (SPANS + 2000) // 2
    return {
        "store": store,
        "spans": SPANS,
        "spans_per_s": SPANS / elapsed,
        "server_cpu_ms_per_span": cpu / SPANS * 1000,
        "queryable_traces": f"{visible}/{traces_expected}",
        "aggregate_query_s": query_s,
    }


def run() -> list[dict[str, Any]]:
    rows = [one_run("sqlite")]
    name = f"keel_bench_{uuid.uuid4().hex[:8]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        rows.append(
            one_run("postgresql", KEEL_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1/{name}")
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return rows
