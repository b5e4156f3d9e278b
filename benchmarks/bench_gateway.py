"""Gateway overhead: server CPU per chat completion (JSON and a 20-chunk stream) and throughput at
concurrency 64, against a local OpenAI-compatible stub in its own process, with tracing on.

Baseline: the same load sent straight to the stub in the same run. Goals from the issue: ≤ 0.5 ms CPU per
non-streaming request, ≤ 1 ms per 20-chunk stream, throughput ≥ 25% of calling the stub directly.
"""

import asyncio
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from benchmarks.server import keel_server

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
    finally:
        stub.send_signal(signal.SIGTERM)
        stub.wait(10)
    return rows
