"""LoRA fine-tuning of the bundled SmolLM2-135M-Instruct on this CPU: Keel's training process (the one every
fine-tune job runs: transformers' Trainer, metrics, checkpoints) against a plain PEFT + torch loop with the
same examples, LoRA settings (r 8, alpha 16, q_proj/v_proj), batch 4, lr 1e-3, seed and 1 torch thread;
seconds and CPU seconds per step (median, first step excluded) and peak memory, each in its own process.
Then the closed loop through a real server: a 30-step fine-tune on the support-ticket set
(examples/make_support_tickets.py, 96 train / 24 test), its eval loss, and the evaluation gate the job
ran on the held-out split: the tuned version against the base model."""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from examples.make_support_tickets import rows as ticket_rows

from benchmarks.server import keel_server
from keel.finetune.examples import to_example
from keel.finetune.schemas import LoraParams
from keel.local.chat_model import converted_dir
from keel.local.settings import LocalSettings

ROOT = Path(__file__).resolve().parents[1]
STEPS = 24


def spec(folder: Path) -> Path:
    train = [r for r in ticket_rows() if r["split"] == "train"]
    lines = [to_example(str(n), r["input"], r["expected"]).as_json() for n, r in enumerate(train)]
    (folder / "train.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    params = LoraParams(max_steps=STEPS, batch_size=4, max_length=256, save_steps=10_000).model_dump()
    document = {
        "base_model_dir": str(converted_dir(LocalSettings().cache_dir)),
        "train_file": str(folder / "train.jsonl"),
        "eval_file": None,
        "output_dir": str(folder / "keel-run"),
        "method": "lora",
        "params": params,
        "seed": 0,
        "threads": 1,
    }
    path = folder / "spec.json"
    path.write_text(json.dumps(document))
    return path


def child(command: list[str]) -> tuple[str, float, float]:
    """(stdout, wall seconds, CPU seconds) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    env = {
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_OFFLINE": "1",
    }
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env}, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return result.stdout, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def keel_process(path: Path) -> dict[str, Any]:
    out, wall, cpu = child([sys.executable, "-m", "keel.finetune.train", str(path)])
    events = [json.loads(line) for line in out.splitlines() if line.startswith('{"event"')]
    steps = [e for e in events if e["event"] == "step"]
    done = next(e for e in events if e["event"] == "done")
    return {
        "step_seconds": [e["seconds_per_step"] for e in steps],
        "losses": [e["loss"] for e in steps],
        "peak_rss_mb": done["metrics"]["peak_rss_mb"],
        "wall": wall,
        "cpu": cpu,
    }


def plain(path: Path) -> dict[str, Any]:
    out, wall, cpu = child([sys.executable, str(ROOT / "benchmarks" / "plain_peft.py"), str(path)])
    return {**json.loads(out.strip().splitlines()[-1]), "wall": wall, "cpu": cpu}


def row(name: str, result: dict[str, Any]) -> dict[str, Any]:
    steady = result["step_seconds"][1:]
    return {
        "variant": name,
        "steps": len(result["step_seconds"]),
        "s/step (median)": statistics.median(steady),
        "process CPU s/step": result["cpu"] / len(result["step_seconds"]),
        "process wall s": result["wall"],
        "peak RSS MB": result["peak_rss_mb"],
        "loss first→last": f"{result['losses'][0]:.2f}→{result['losses'][-1]:.2f}",
    }


def closed_loop() -> dict[str, Any]:
    with keel_server(KEEL_FINETUNE_THREADS="1", KEEL_LOCAL_THREADS="1") as server:
        api = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {server.admin_key}"}, timeout=60
        )
        api.post(
            "/api/v1/datasets", json={"name": "support-tickets", "items": ticket_rows()}
        ).raise_for_status()
        config = {
            "dataset": "support-tickets",
            "params": {"r": 8, "max_steps": 30},
            "register_as": "support-tuned",
            "evaluate": {"evaluators": ["exact_match"], "max_tokens": 16},
        }
        run = api.post("/api/v1/finetunes", json=config).json()
        started = time.perf_counter()
        while run["status"] not in ("succeeded", "failed", "cancelled"):
            time.sleep(2)
            run = api.get(f"/api/v1/finetunes/{run['id']}").json()
        version = api.get("/api/v1/models/support-tuned/versions/1").json()
        metrics = api.get(f"/api/v1/finetunes/{run['id']}/metrics").json()["items"]
    evals = [m for m in metrics if m["kind"] == "eval"]
    [evaluation] = version["evaluations"]
    exact = evaluation["metrics"]["exact_match"]
    return {
        "variant": "closed loop via server (30 steps, 96 train / 24 test)",
        "steps": run["summary"]["steps"],
        "process wall s": time.perf_counter() - started,
        "peak RSS MB": run["summary"]["peak_rss_mb"],
        "loss first→last": "eval {:.2f}→{:.2f}".format(
            evals[0]["values"]["eval_loss"], evals[-1]["values"]["eval_loss"]
        ),
        "exact_match base→tuned": f"{exact['mean_a']:.2f}→{exact['mean_b']:.2f} (p {exact['p_value']:.4f}, "
        f"{exact['verdict']})",
    }


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as scratch:
        path = spec(Path(scratch))
        rows = []
        for name, runner in (("plain PEFT loop", plain), ("Keel training process", keel_process)):
            rows.append(row(name, runner(path)))
        base, keel = rows
        rows.append(
            {
                "variant": "ratio Keel / plain",
                "s/step (median)": keel["s/step (median)"] / base["s/step (median)"],
                "process CPU s/step": keel["process CPU s/step"] / base["process CPU s/step"],
                "peak RSS MB": keel["peak RSS MB"] / base["peak RSS MB"],
            }
        )
    rows.append(closed_loop())
    return rows


if __name__ == "__main__":
    from benchmarks.run import table

    print(table(run()))
