"""Management API request path: what auth (hash + indexed key lookup) and a write cost per request.

Baseline is `/healthz` on the same server in the same run (no auth, no database); the figures that matter are
the ratios, since absolute times on a shared 2-core machine drift between runs.
"""

import statistics
import time
from typing import Any

import httpx

from benchmarks.server import keel_server

REQUESTS = 1500


def measure(client: httpx.Client, server: Any, method: str, path: str, **kwargs: Any) -> dict[str, float]:
    for _ in range(50):
        client.request(method, path, **kwargs)
    latencies = []
    cpu_before = server.cpu_seconds()
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.request(method, path, **kwargs)
        latencies.append(time.perf_counter() - started)
        assert response.status_code < 400, response.text
    cpu = server.cpu_seconds() - cpu_before
    latencies.sort()
    return {
        "server_cpu_us_per_request": cpu / REQUESTS * 1e6,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1e3,
    }


def run() -> list[dict[str, Any]]:
    rows = []
    with keel_server(KEEL_WORKER_ENABLED="false") as server:
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        with httpx.Client(base_url=server.url, headers=headers) as client:
            cases = [
                ("GET /healthz (baseline)", "GET", "/healthz", {}),
                ("GET /api/v1/whoami (auth)", "GET", "/api/v1/whoami", {}),
                ("GET /api/v1/projects (auth + query)", "GET", "/api/v1/projects", {}),
                (
                    "POST /api/v1/jobs (auth + insert)",
                    "POST",
                    "/api/v1/jobs",
                    {"json": {"kind": "maintenance.prune_jobs"}},
                ),
            ]
            for name, method, path, kwargs in cases:
                rows.append({"case": name, **measure(client, server, method, path, **kwargs)})
    base = rows[0]["server_cpu_us_per_request"]
    for row in rows:
        row["cpu_ratio_vs_baseline"] = row["server_cpu_us_per_request"] / base if base else float("nan")
    return rows
