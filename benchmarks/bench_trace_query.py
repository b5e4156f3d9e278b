"""Trace list and aggregate queries, and the web UI's pages, with 1,000,000 spans stored (SQLite): p50/p95
latency per query shape or page, over HTTP, as the server answers them (whole response).

The store is filled through the real OTLP endpoint (500,000 two-span GenAI traces spread over 7 days, 4
models, 97 users, 501 sessions), then each query runs 20 times over HTTP. Goals: list p95 <= 100 ms; UI
pages < 300 ms.
"""

import os
import statistics
import time
from typing import Any

import httpx

from benchmarks.bench_ingest import replay
from benchmarks.otlp_payloads import genai_batches
from benchmarks.server import keel_server

SPANS = int(os.environ.get("KEEL_BENCH_QUERY_SPANS", "1000000"))
REPEATS = 20
QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    ("list newest 50", "/api/v1/traces", {}),
    ("list model=gpt-4o", "/api/v1/traces", {"model": "gpt-4o"}),
    ("list user=user-42", "/api/v1/traces", {"user": "user-42"}),
    ("list session=s-7", "/api/v1/traces", {"session": "s-7"}),
    ("list min_latency_ms=100, page 2", "/api/v1/traces", {"min_latency_ms": 100, "page": 2}),
    ("list sort=cost", "/api/v1/traces", {"sort": "cost"}),
    ("list q='refund policy' (text)", "/api/v1/traces", {"q": "refund policy"}),
    (
        "aggregates 1h by model, last 24 h",
        "/api/v1/traces/aggregates",
        {"bucket": "1h", "group_by": "model", "since": "-24h"},
    ),
]
PAGES: list[tuple[str, str, dict[str, Any]]] = [
    ("UI overview, last 24 h by model", "/", {"range": "24h"}),
    ("UI overview, last 1 h by route", "/", {"range": "1h", "group_by": "route"}),
    ("UI traces, newest", "/traces", {}),
    ("UI traces, model=gpt-4o", "/traces", {"model": "gpt-4o"}),
    ("UI one trace", "/traces/{trace}", {}),
]


def timed(client: httpx.Client, path: str, params: dict[str, Any]) -> float:
    params = dict(params)
    if params.pop("page", None):
        cursor = client.get(path, params=params).json()["next_cursor"]
        params["cursor"] = cursor
    if params.get("since") == "-24h":
        params["since"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400))
    started = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def run() -> list[dict[str, Any]]:
    week_ago = time.time_ns() - 7 * 86_400 * 1_000_000_000
    with keel_server(KEEL_WORKER_ENABLED="false") as server:
        chunk = 100_000
        for offset in range(0, SPANS, chunk):
            bodies = genai_batches(
                min(chunk, SPANS - offset), 500, start_ns=week_ago + offset * (7 * 86_400 * 10**9 // SPANS)
            )
            replay(server.url, server.admin_key, bodies)
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        rows = []
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
            for name, path, params in QUERIES:
                timings = sorted(timed(client, path, params) for _ in range(REPEATS))
                rows.append(
                    {
                        "query": name,
                        "spans_stored": SPANS,
                        "p50_ms": statistics.median(timings) * 1000,
                        "p95_ms": timings[int(0.95 * (REPEATS - 1))] * 1000,
                    }
                )
        with httpx.Client(base_url=server.url, timeout=120) as browser:
            signed_in = browser.post("/login", data={"key": server.admin_key, "next": "/"})
            assert signed_in.status_code == 303, signed_in.text
            trace = httpx.get(f"{server.url}/api/v1/traces", headers=headers).json()["items"][0]["trace_id"]
            for name, path, params in PAGES:
                timings = sorted(timed(browser, path.format(trace=trace), params) for _ in range(REPEATS))
                rows.append(
                    {
                        "query": name,
                        "spans_stored": SPANS,
                        "p50_ms": statistics.median(timings) * 1000,
                        "p95_ms": timings[int(0.95 * (REPEATS - 1))] * 1000,
                    }
                )
    return rows
