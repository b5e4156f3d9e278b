"""Evaluation as a user runs it against a real server: the SDK with a Python task, and `keel eval run` as a
CI gate that fails on a regression against a baseline."""

import json
from pathlib import Path
from typing import Any

import pytest

import keel
from tests.e2e.conftest import Server, clean_env
from tests.e2e.conftest import keel as run_keel
from tests.stubs.openai_stub import openai_stub

pytestmark = pytest.mark.e2e

QA = [
    {"input": {"q": "capital of France"}, "expected": "Paris is the capital of France"},
    {"input": {"q": "capital of Peru"}, "expected": "Lima is the capital of Peru"},
    {"input": {"q": "capital of Japan"}, "expected": "Tokyo is the capital of Japan"},
]


def prompt(content: str) -> dict[str, Any]:
    return {"name": "ask", "messages": [{"role": "user", "content": content}], "model": "stub/m"}


def test_sdk_runs_a_python_task_and_reports_per_item(server: Server) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    client = keel.Client(server.url, key)
    client.datasets.create("qa-sdk", items=QA)

    def answer(item: dict[str, str]) -> str:
        if "Japan" in item["q"]:
            raise RuntimeError("no idea")
        city = {"capital of France": "Paris", "capital of Peru": "Lima"}[item["q"]]
        return f"{city} is the capital"

    exp = client.experiments.run(dataset="qa-sdk", task=answer, evaluators=["rouge", "bleu"])
    assert exp.status == "succeeded"
    assert set(exp.summary) == {"rouge1", "rouge2", "rougeL", "bleu", "sentence_bleu"}
    assert exp.summary["bleu"]["corpus"] is True
    assert exp.summary["rougeL"]["n"] == 2
    low, high = exp.summary["rougeL"]["ci"]
    assert low <= exp.summary["rougeL"]["mean"] <= high
    items = {i["input"]["q"]: i for i in exp.items}
    assert items["capital of Japan"]["error"] == "RuntimeError: no idea"
    assert items["capital of Japan"]["scores"] == {}
    assert items["capital of France"]["output"] == "Paris is the capital"
    assert items["capital of France"]["trace_id"]
    keel.flush()


def test_cli_gate_fails_on_a_regression(server: Server, tmp_path: Path) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    env = clean_env(KEEL_URL=server.url, KEEL_API_KEY=key, COLUMNS="200")
    client = keel.Client(server.url, key)
    with openai_stub() as stub:
        client.request("POST", "/api/v1/providers", json={"name": "stub", "kind": "openai", "base_url": stub})
        client.datasets.create("qa", items=QA)
        client.prompts.push(
            {"name": "ask", "messages": [{"role": "user", "content": "{{ q }}"}], "model": "stub/m"}
        )
        config = tmp_path / "eval.yaml"
        config.write_text(
            "dataset: qa\ntask: {type: prompt, prompt: ask}\n"
            "evaluators: [rouge, exact_match]\nconcurrency: 4\n"
        )
        baseline = run_keel("eval", "run", str(config), "--json", env=env)
        assert baseline.returncode == 0
        baseline_id = json.loads(baseline.stdout)["experiment"]["id"]
        client.prompts.push(
            {"name": "ask", "messages": [{"role": "user", "content": "Say: {{ q }}"}], "model": "stub/m"}
        )
        gated = run_keel(
            "eval",
            "run",
            str(config),
            "--baseline",
            baseline_id,
            "--fail-if",
            "rougeL < baseline - 0.02",
            env=env,
            check=False,
        )
        assert gated.returncode == 1, gated.stdout + gated.stderr
        assert "FAIL: rougeL" in gated.stdout
        assert "vs baseline" in gated.stdout
        passed = run_keel(
            "eval",
            "run",
            str(config),
            "--baseline",
            baseline_id,
            "--fail-if",
            "rougeL < baseline - 0.5",
            env=env,
            check=False,
        )
        assert passed.returncode == 0, passed.stdout + passed.stderr
        assert "ok: rougeL" in passed.stdout
        bad = run_keel("eval", "run", str(config), "--fail-if", "rougeL < baseline", env=env, check=False)
        assert bad.returncode == 2
        assert "--baseline" in bad.stderr
