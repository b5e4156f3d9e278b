"""`keel demo`: the closed loop on a laptop, CPU only, in minutes, on a fresh data directory.

A `keel serve` is started for it; a shipped task (support tickets with their labels) is served as production
traffic through a route on the bundled model; simulated users give thumbs from the labels and a simulated
reviewer corrects wrong answers. A loop then selects those traces into a dataset, fine-tunes a LoRA on the
bundled model, gates it against the base model on a held-out split, and releases it as a canary on the same
route while the simulated traffic goes on; the judge promotes it or rolls it back and says why. Everything
stays in the data directory and the UI.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

ROUTE, LOOP, MODEL = "tickets", "tickets-loop", "tickets-tuned"
BASE = {"provider": "local", "model": "smollm2-135m-instruct"}


def task() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files("keel.loops").joinpath("demo_tickets.json").read_text())
    return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Demo:
    def __init__(self, data_dir: Path, say: Callable[[str], None], steps: int, canary_interval: str) -> None:
        self.data_dir, self.say, self.steps, self.interval = data_dir, say, steps, canary_interval
        self.task = task()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.api: httpx.Client | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "KEEL_DATA_DIR": str(self.data_dir),
            "KEEL_PORT": str(self.port),
            "KEEL_HOST": "127.0.0.1",
            "KEEL_CANARY_TICK_SECONDS": "1",
            "KEEL_LOOP_TICK_SECONDS": "1",
            "KEEL_LOCAL_THREADS": os.environ.get("KEEL_LOCAL_THREADS", "2"),
            "KEEL_FINETUNE_THREADS": os.environ.get("KEEL_FINETUNE_THREADS", "2"),
        }
        env.pop("KEEL_DATABASE_URL", None)
        env.pop("KEEL_ADMIN_KEY", None)
        log = (self.data_dir / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "keel", "serve"], env=env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"keel serve exited; see {self.data_dir / 'serve.log'}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError("keel serve did not become ready in 3 minutes")
        key = (self.data_dir / "admin.key").read_text().strip()
        self.api = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=300)

    def stop(self) -> None:
        if self.api is not None:
            self.api.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        assert self.api is not None
        reply = self.api.request(method, path, **kwargs)
        if reply.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text[:500]}")
        return reply.json() if reply.content else None

    def ask(self, item: dict[str, Any]) -> tuple[bool, str]:
        """One production call, then what a user and a reviewer would say about its answer."""
        messages = [
            {"role": "system", "content": self.task["system"]},
            {"role": "user", "content": item["text"]},
        ]
        assert self.api is not None
        body = {"model": ROUTE, "messages": messages, "max_tokens": 4, "temperature": 0}
        reply = self.api.post("/v1/chat/completions", json=body)
        if reply.status_code != 200:
            return False, ""
        trace_id = reply.headers["x-keel-trace-id"]
        answer = str(reply.json()["choices"][0]["message"]["content"] or "")
        right = answer.strip().strip(".").lower().startswith(item["label"])
        feedback = [
            {
                "trace_id": trace_id,
                "name": "thumbs",
                "value": 1.0 if right else 0.0,
                "source": "simulated-user",
            },
            {
                "trace_id": trace_id,
                "name": "correction",
                "label": item["label"],
                "source": "simulated-review",
            },
        ]
        for one in feedback:
            self.call("POST", "/api/v1/feedback", json=one)
        return right, trace_id

    def traffic(self, items: list[dict[str, Any]]) -> float:
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(self.ask, items))
        return sum(right for right, _ in results) / max(1, len(results))

    def run(self) -> dict[str, Any]:
        items = self.task["items"]
        say = self.say
        say(f"[1/6] keel serve at {self.url} (data in {self.data_dir}); this machine's CPU only")
        self.start()
        self.call("POST", "/api/v1/routes", json={"name": ROUTE, "targets": [BASE]})
        say(f"[2/6] production: {len(items)} support tickets through route {ROUTE!r} on the bundled model")
        started = time.monotonic()
        accuracy = self.traffic(items)
        say(
            f"      base model answered {accuracy:.0%} right ({time.monotonic() - started:.0f} s); simulated "
            "users gave thumbs from the task's labels, a simulated reviewer corrected every answer"
        )
        loop = {
            "name": LOOP,
            "dataset": "tickets-from-production",
            "selector": {"filters": {"route": ROUTE}, "expected_from": "feedback:correction"},
            "test_fraction": 0.2,
            "finetune": {
                "register_as": MODEL,
                "params": {
                    "max_steps": self.steps,
                    "batch_size": 4,
                    "lr": 3e-3,
                    "max_length": 96,
                    "eval_steps": max(5, self.steps // 4),
                    "save_steps": self.steps,
                },
                "evaluate": {"evaluators": ["exact_match"], "max_tokens": 4},
            },
            "gate": {"require": "not_worse"},
            "canary": {
                "route": ROUTE,
                "steps": [50, 100],
                "interval": self.interval,
                "min_calls": 16,
                "metrics": [
                    {"name": "error_rate"},
                    {"name": "feedback:thumbs", "allowed_change": 0.1, "min_samples": 16, "critical": True},
                    {"name": "latency_p95", "allowed_change": 1.0},
                ],
            },
        }
        self.call("POST", "/api/v1/loops", json=loop)
        say(f"[3/6] loop {LOOP!r}: corrected traces → dataset → LoRA ({self.steps} steps) → gate → canary")
        run = self.call("POST", f"/api/v1/loops/{LOOP}/runs")
        shown, canary_started, position = 0, False, 0
        shown_progress: tuple[str, int] = ("", -1)
        while run["status"] == "running":
            time.sleep(1)
            run = self.call("GET", f"/api/v1/loops/{LOOP}/runs/{run['id']}")
            for entry in run["log"][shown:]:
                if entry["stage"] == "gate" and entry["message"].startswith("registered"):
                    say("[4/6] evaluation gate: the candidate against the base model on the held-out split")
                say(f"      [{entry['stage']}] {entry['message']}")
            shown = len(run["log"])
            if run["stage"] == "finetune" and run["finetune_run_id"]:
                tuned = self.call("GET", f"/api/v1/finetunes/{run['finetune_run_id']}")
                phase = (tuned["progress_message"] or tuned["status"]).split(" ")[0]
                tenth = int(tuned["progress"] * 10)
                if (phase, tenth) != shown_progress:
                    shown_progress = (phase, tenth)
                    message = tuned["progress_message"] or tuned["status"]
                    say(f"      fine-tune {tuned['progress']:.0%} {message}")
            if run["stage"] == "canary":
                if not canary_started:
                    canary_started = True
                    say(f"[5/6] canary on {ROUTE!r}: live simulated traffic while the judge watches")
                batch = [items[(position + n) % len(items)] for n in range(8)]
                position += 8
                self.traffic(batch)
                state = self.call("GET", f"/api/v1/routes/{ROUTE}/canary")
                live = state.get("live") or {}
                say(f"      candidate at {state['weight']}%: {live.get('reason', state['reason'])[:160]}")
        return self.report(run)

    def report(self, run: dict[str, Any]) -> dict[str, Any]:
        say = self.say
        say(f"[6/6] run {run['number']}: {run['status']} — {run['reason']}")
        result: dict[str, Any] = {"status": run["status"], "reason": run["reason"], "run": run}
        if run.get("experiments"):
            for arm, key in (("base", "baseline_experiment"), ("tuned", "candidate_experiment")):
                experiment = self.call("GET", f"/api/v1/experiments/{run['experiments'][key]}")
                score = (experiment.get("summary") or {}).get("exact_match", {})
                mean = score.get("mean") if isinstance(score, dict) else score
                result[f"{arm}_exact_match"] = mean
            base, tuned = result["base_exact_match"], result["tuned_exact_match"]
            if isinstance(base, int | float) and isinstance(tuned, int | float):
                say(f"      exact match on the held-out tickets: base model {base:.0%}, tuned {tuned:.0%}")
        if run.get("canary_id"):
            state = self.call("GET", f"/api/v1/routes/{ROUTE}/canary")
            for decision in reversed(state["decisions"]):
                if decision["action"] == "wait":
                    continue
                say(
                    f"      judge at {decision['weight']}%: {decision['action']} — {decision['reason'][:300]}"
                )
                for metric in decision["metrics"]:
                    say(f"        {_metric_line(metric)}")
            result["canary"] = {"state": state["state"], "decisions": state["decisions"]}
        say(f"      see it all at {self.url}/gateway/routes/{ROUTE}/canary and {self.url}/models/{MODEL}")
        return result


def _metric_line(metric: dict[str, Any]) -> str:
    def shown(value: Any) -> str:
        return f"{value:.4g}" if isinstance(value, int | float) else "–"

    p = metric.get("p_value")
    return (
        f"{metric['name']}: baseline {shown(metric.get('baseline'))} (n={metric['baseline_n']}), candidate "
        f"{shown(metric.get('canary'))} (n={metric['canary_n']}), p={shown(p)} → {metric['verdict']}"
    )


def fresh_dir(given: Path | None) -> Path:
    if given is None:
        return Path(tempfile.mkdtemp(prefix="keel-demo-"))
    given.mkdir(parents=True, exist_ok=True)
    if any(given.iterdir()):
        raise ValueError(f"{given} is not empty; the demo needs a fresh data directory")
    return given
