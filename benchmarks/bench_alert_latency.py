"""Alert latency: from the call that makes a rule true to its webhook arriving, on a real `keel serve`
(`KEEL_ALERT_INTERVAL_SECONDS=5`) with a route whose upstream (the OpenAI stub in its own process) answers
500. Three rules, each on its own route, one after the other. Goal from the monitoring issue: at most one
evaluation interval + 5 s (10 s here); `vs_goal` is the measured time over that goal.
"""

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx

from benchmarks.server import keel_server

INTERVAL = 5.0
ARRIVED: dict[str, float] = {}


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        ARRIVED.setdefault(body["rule"]["name"], time.monotonic())
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run() -> list[dict[str, Any]]:
    receiver = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_port}/hook"
    port = free_port()
    stub = subprocess.Popen([sys.executable, "-m", "tests.stubs.openai_stub", str(port)])
    rows = []
    try:
        time.sleep(1.5)
        env = {"KEEL_ALERT_INTERVAL_SECONDS": str(INTERVAL), "KEEL_WEBHOOK_ALLOW_PRIVATE": "true"}
        with (
            keel_server(**env) as server,
            httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {server.admin_key}"}, timeout=30
            ) as api,
        ):
            provider = {"name": "stub", "kind": "openai", "base_url": f"http://127.0.0.1:{port}/v1"}
            api.post("/api/v1/providers", json=provider).raise_for_status()
            for n in range(3):
                route = {
                    "name": f"down-{n}",
                    "targets": [{"provider": "stub", "model": "fail"}],
                    "retries": 0,
                }
                api.post("/api/v1/routes", json=route).raise_for_status()
                rule = {
                    "name": f"errors-{n}",
                    "metric": "error_rate",
                    "filters": {"route": f"down-{n}"},
                    "threshold": 0.05,
                    "window_s": 60,
                    "min_count": 5,
                    "channels": [{"type": "webhook", "url": hook}],
                }
                api.post("/api/v1/alerts/rules", json=rule).raise_for_status()
                for _ in range(5):
                    body = {"model": f"down-{n}", "messages": [{"role": "user", "content": "x"}]}
                    api.post("/v1/chat/completions", json=body)
                triggered = time.monotonic()
                while f"errors-{n}" not in ARRIVED and time.monotonic() - triggered < 60:
                    time.sleep(0.05)
                took = ARRIVED.get(f"errors-{n}", float("nan")) - triggered
                rows.append(
                    {
                        "case": f"rule {n + 1}: triggering call → webhook (s)",
                        "seconds": took,
                        "vs_goal": took / (INTERVAL + 5),
                    }
                )
    finally:
        stub.terminate()
        stub.wait(10)
        receiver.shutdown()
    return rows
