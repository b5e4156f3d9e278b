"""Gateway overhead: server CPU per chat completion (JSON and a 20-chunk stream) and throughput at
concurrency 64, against a local OpenAI-compatible stub in its own process, with tracing on.

Baseline: the same load sent straight to the stub in the same run. Goals from the issue: ≤ 0.5 ms CPU per
non-streaming request, ≤ 1 ms per 20-chunk stream, throughput ≥ 25% of calling the stub directly.
LiteLLM's proxy (from `.venv-litellm`, which `make bench` creates) runs against the same stub in the same run.
"""

import asyncio
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

REQUESTS = 1500
CONCURRENCY = 64
PROMPT = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def load(url: str, headers: dict[str, str], model: str, stream: bool) -> float:
    """Send REQUESTS requests from CONCURRENCY workers; a dropped connection is retried once."""
    body = {"model": model, "stream": stream, "messages": [{"role": "user", "content": PROMPT}]}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(REQUESTS):
        queue.put_nowait(n)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
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
                try:
                    await one()
                except httpx.TransportError:
                    await one()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
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
                direct = asyncio.run(load(f"{stub_url}/chat/completions", {}, "m", stream))
                before = server.cpu_seconds()
                via = asyncio.run(load(f"{server.url}/v1/chat/completions", headers, "stub/m", stream))
                cpu = server.cpu_seconds() - before
                rows.append(
                    {
                        "case": label,
                        "requests": REQUESTS,
                        "concurrency": CONCURRENCY,
                        "gateway_cpu_ms_per_request": cpu / REQUESTS * 1000,
                        "direct_req_per_s": REQUESTS / direct,
                        "gateway_req_per_s": REQUESTS / via,
                        "throughput_vs_direct": direct / via,
                    }
                )
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
        if LITELLM.exists():
            rows += litellm_rows(stub_url, rows)
    finally:
        stub.send_signal(signal.SIGTERM)
        stub.wait(10)
    return rows


def litellm_rows(stub_url: str, keel_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as config:
        config.write(
            f"model_list:\n  - model_name: stub/m\n    litellm_params:\n      model: openai/m\n"
            f"      api_base: {stub_url}\n      api_key: sk-stub\n"
        )
        config.flush()
        env = {
            **os.environ,
            "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        proxy = subprocess.Popen(
            [str(LITELLM), "--config", config.name, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        rows = []
        try:
            for _ in range(900):
                try:
                    body = {"model": "stub/m", "messages": [{"role": "user", "content": "x"}]}
                    if httpx.post(url, json=body, timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            for stream, keel_row in zip((False, True), keel_rows, strict=False):
                asyncio.run(load(url, {}, "stub/m", stream))
                before = cpu_seconds(proxy.pid)
                elapsed = asyncio.run(load(url, {}, "stub/m", stream))
                cpu = (cpu_seconds(proxy.pid) - before) / REQUESTS * 1000
                rows.append(
                    {
                        "case": f"litellm proxy: {keel_row['case']}",
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
                        "case": f"ratio litellm/keel CPU: {keel_row['case']}",
                        "requests": 0,
                        "concurrency": 0,
                        "gateway_cpu_ms_per_request": cpu / keel_row["gateway_cpu_ms_per_request"],
                        "direct_req_per_s": 0.0,
                        "gateway_req_per_s": 0.0,
                        "throughput_vs_direct": 0.0,
                    }
                )
        finally:
            proxy.send_signal(signal.SIGTERM)
            proxy.wait(30)
        return rows
