"""Gateway overhead: server CPU per chat completion (JSON and a 20-chunk stream) and throughput at
concurrency 64, against a local OpenAI-compatible stub in its own process, with tracing on; a priced JSON
completion with and without a project budget and a rate limit (alternating rounds on one server); and a
route whose first target refuses connections against calling its fallback directly (sequential latency).

Baseline: the same load sent straight to the stub in the same run. The stub is a minimal Starlette endpoint
on uvicorn, so its CPU per request is what one bare Python HTTP request costs on this machine at that moment:
`gateway_cpu_vs_stub` is the stable figure on a noisy box (the gateway serves a request *and* makes one).
The load generator is Python (httpx) on the same two cores, so throughput and p99 here are the generator's
as much as the gateway's; the CPU figures are the server's own. Goals (pipeline issue): ≤ 0.40 ms CPU per
JSON completion, ≤ 0.55 ms per 20-chunk stream, a budget + rate limit ≤ 1.15× the same run without, the
dead-primary route ≤ 2 ms more than its fallback. LiteLLM's proxy and MLflow's gateway (`mlflow gateway
start`, one worker; from `.venv-litellm` and `.venv-mlflow`, which `make bench` creates) run against the same
stub with the same load in the same run; their CPU is summed over their process tree. Neither records
requests here (no database configured); Keel traces every call.
"""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench_vs_phoenix import cpu_seconds
from benchmarks.server import keel_server

LITELLM = Path(__file__).resolve().parents[1] / ".venv-litellm" / "bin" / "litellm"
MLFLOW = Path(__file__).resolve().parents[1] / ".venv-mlflow" / "bin" / "mlflow"

REQUESTS = 1500
CONCURRENCY = 64
PROMPT = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def load(
    url: str,
    headers: dict[str, str],
    model: str,
    stream: bool,
    latencies: list[float] | None = None,
    concurrency: int = CONCURRENCY,
    requests: int = REQUESTS,
) -> float:
    """Send `requests` requests from `concurrency` workers; a dropped connection is retried once."""
    body = {"model": model, "stream": stream, "messages": [{"role": "user", "content": PROMPT}]}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(n)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as client:

        async def one() -> None:
            if stream:
                async with client.stream("POST", url, json=body) as response:
                    assert response.status_code == 200
                    async for _ in response.aiter_lines():
                        pass
            else:
                response = await client.post(url, json=body)
                assert response.status_code == 200, response.text

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                sent = time.perf_counter()
                try:
                    await one()
                except httpx.TransportError:
                    await one()
                if latencies is not None:
                    latencies.append(time.perf_counter() - sent)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def run() -> list[dict[str, Any]]:
    port = free_port()
    stub = subprocess.Popen([sys.executable, "-m", "tests.stubs.openai_stub", str(port)])
    stub_url = f"http://127.0.0.1:{port}/v1"
    rows = []
    try:
        for _ in range(100):
            try:
                httpx.post(f"{stub_url}/chat/completions", json={"model": "m", "messages": []})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with keel_server(KEEL_WORKER_ENABLED="false") as server:
            headers = {"Authorization": f"Bearer {server.admin_key}"}
            httpx.post(
                f"{server.url}/api/v1/providers",
                headers=headers,
                json={"name": "stub", "kind": "openai", "base_url": stub_url},
            ).raise_for_status()
            for stream in (False, True):
                label = "20-chunk stream" if stream else "JSON completion"
                asyncio.run(load(f"{server.url}/v1/chat/completions", headers, "stub/m", stream))  # warm-up
                stub_before = cpu_seconds(stub.pid)
                direct = asyncio.run(load(f"{stub_url}/chat/completions", {}, "m", stream))
                stub_cpu = cpu_seconds(stub.pid) - stub_before
                before = server.cpu_seconds()
                via = asyncio.run(load(f"{server.url}/v1/chat/completions", headers, "stub/m", stream))
                cpu = server.cpu_seconds() - before
                rows.append(
                    {
                        "case": label,
                        "requests": REQUESTS,
                        "concurrency": CONCURRENCY,
                        "gateway_cpu_ms_per_request": cpu / REQUESTS * 1000,
                        "stub_cpu_ms_per_request": stub_cpu / REQUESTS * 1000,
                        "gateway_cpu_vs_stub": cpu / stub_cpu,
                        "direct_req_per_s": REQUESTS / direct,
                        "gateway_req_per_s": REQUESTS / via,
                        "throughput_vs_direct": direct / via,
                    }
                )
            rows += limited_rows(server, headers)
            rows += dead_primary_rows(server.url, headers)
            spans = httpx.get(
                f"{server.url}/api/v1/traces/aggregates", params={"bucket": "1d"}, headers=headers
            ).json()["items"]
            rows.append(
                {
                    "case": "traces recorded",
                    "requests": sum(r["count"] for r in spans),
                    "concurrency": 0,
                    "gateway_cpu_ms_per_request": 0.0,
                    "direct_req_per_s": 0.0,
                    "gateway_req_per_s": 0.0,
                    "throughput_vs_direct": 0.0,
                }
            )
        keel_rows = list(rows)
        if LITELLM.exists():
            rows += competitor_rows("litellm proxy", litellm_command, stub_url, keel_rows)
        if MLFLOW.exists():
            rows += competitor_rows("mlflow gateway", mlflow_command, stub_url, keel_rows)
    finally:
        stub.send_signal(signal.SIGTERM)
        stub.wait(10)
    return rows


def p99_ms(latencies: list[float]) -> float:
    return sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000


def limited_rows(server: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    """JSON completions of a priced model with a project budget and a rate limit set, against the same
    priced completions without them, alternating (two rounds each) so drift hits both alike."""
    api = httpx.Client(base_url=server.url, headers=headers)
    price = {"input_usd_per_mtok": 1, "output_usd_per_mtok": 2}
    api.put("/api/v1/prices/stub/m", json=price).raise_for_status()
    limit = {"usd_per_day": 1000, "usd_per_month": 10000, "requests_per_minute": 1_000_000}
    chat = f"{server.url}/v1/chat/completions"
    asyncio.run(load(chat, headers, "stub/m", False))  # warm-up
    cpu = {"without": 0.0, "with": 0.0}
    latencies: dict[str, list[float]] = {"without": [], "with": []}
    for case in ("without", "with", "without", "with"):
        if case == "with":
            api.put("/api/v1/limits/project", json=limit).raise_for_status()
        before = server.cpu_seconds()
        asyncio.run(load(chat, headers, "stub/m", False, latencies[case]))
        cpu[case] += (server.cpu_seconds() - before) / (2 * REQUESTS) * 1000
        if case == "with":
            api.delete("/api/v1/limits/project").raise_for_status()
    api.delete("/api/v1/prices/stub/m").raise_for_status()
    return [
        {
            "case": f"JSON completion, priced, {case} budget + rate limit",
            "requests": 2 * REQUESTS,
            "concurrency": CONCURRENCY,
            "gateway_cpu_ms_per_request": cpu[case],
            "cpu_vs_no_limits": cpu[case] / cpu["without"],
            "p99_ms": p99_ms(latencies[case]),
        }
        for case in ("without", "with")
    ]


def dead_primary_rows(url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """A route whose first target refuses connections, with a healthy fallback, against calling the
    fallback directly: one request at a time, so the row is latency added per request."""
    api = httpx.Client(base_url=url, headers=headers)
    dead = {
        "name": "dead",
        "kind": "openai",
        "base_url": "http://127.0.0.1:9/v1",
        "options": {"timeout_s": 2},
    }
    api.post("/api/v1/providers", json=dead).raise_for_status()
    route = {
        "name": "dead-first",
        "targets": [{"provider": "dead", "model": "m"}],
        "fallbacks": [{"provider": "stub", "model": "m"}],
    }
    api.post("/api/v1/routes", json=route).raise_for_status()
    chat, count = f"{url}/v1/chat/completions", 300
    timings = {}
    for model in ("stub/m", "dead-first", "stub/m", "dead-first"):
        latencies: list[float] = []
        asyncio.run(load(chat, headers, model, False, latencies, concurrency=1, requests=count))
        timings[model] = sum(latencies) / count * 1000
    return [
        {
            "case": "dead primary + fallback, sequential",
            "requests": count,
            "concurrency": 1,
            "mean_ms": timings["dead-first"],
            "fallback_direct_mean_ms": timings["stub/m"],
            "added_ms": timings["dead-first"] - timings["stub/m"],
        }
    ]


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its living descendants (MLflow's CLI serves from a child process)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent and child not in tree]
        tree.update(children)
        frontier += children
    total = 0.0
    for member in tree:
        with contextlib.suppress(OSError):
            total += cpu_seconds(member)
    return total


Command = tuple[list[str], dict[str, str], str]  # argv, extra environment, model name to send


def litellm_command(stub_url: str, port: int, config: Path) -> Command:
    config.write_text(
        f"model_list:\n  - model_name: stub/m\n    litellm_params:\n      model: openai/m\n"
        f"      api_base: {stub_url}\n      api_key: sk-stub\n"
    )
    env = {
        "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    command = [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    return command, env, "stub/m"


def mlflow_command(stub_url: str, port: int, config: Path) -> Command:
    config.write_text(
        "endpoints:\n  - name: stub-m\n    endpoint_type: llm/v1/chat\n    model:\n      provider: openai\n"
        "      name: m\n      config:\n        openai_api_key: sk-stub\n"
        f"        openai_api_base: {stub_url}\n"
    )
    command = [str(MLFLOW), "gateway", "start", "--config-path", str(config), "--host", "127.0.0.1"]
    return [*command, "--port", str(port), "--workers", "1"], {}, "stub-m"


def competitor_rows(
    name: str, command_for: Any, stub_url: str, keel_rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Run another gateway against the same stub with the same load; its CPU, and the ratio to Keel's."""
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        command, env, model = command_for(stub_url, port, Path(scratch, "config.yaml"))
        proxy = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=scratch,
            start_new_session=True,  # its own process group: MLflow's CLI leaves gunicorn behind otherwise
        )
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        rows = []
        try:
            for _ in range(900):
                try:
                    body = {"model": model, "messages": [{"role": "user", "content": "x"}]}
                    if httpx.post(url, json=body, timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            for stream, keel_row in zip((False, True), keel_rows, strict=False):
                asyncio.run(load(url, {}, model, stream))
                before = tree_cpu_seconds(proxy.pid)
                elapsed = asyncio.run(load(url, {}, model, stream))
                cpu = (tree_cpu_seconds(proxy.pid) - before) / REQUESTS * 1000
                rows.append(
                    {
                        "case": f"{name}: {keel_row['case']}",
                        "requests": REQUESTS,
                        "concurrency": CONCURRENCY,
                        "gateway_cpu_ms_per_request": cpu,
                        "direct_req_per_s": keel_row["direct_req_per_s"],
                        "gateway_req_per_s": REQUESTS / elapsed,
                        "throughput_vs_direct": REQUESTS / elapsed / keel_row["direct_req_per_s"],
                    }
                )
                rows.append(
                    {
                        "case": f"ratio {name}/keel CPU: {keel_row['case']}",
                        "requests": 0,
                        "concurrency": 0,
                        "gateway_cpu_ms_per_request": cpu / keel_row["gateway_cpu_ms_per_request"],
                    }
                )
        finally:
            os.killpg(proxy.pid, signal.SIGTERM)
            try:
                proxy.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proxy.pid, signal.SIGKILL)
        return rows
