"""Experiments end to end in one server: a prompt task through the gateway (stub upstream), evaluators,
an LLM judge from the prompt registry, per-item failures, summaries and a paired comparison."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer
from tests.stubs.openai_stub import openai_stub

ITEMS = [
    {"input": {"q": "Paris"}, "expected": "echo: Paris"},
    {"input": {"q": "Lima"}, "expected": "Lima"},
    {"input": {"q": "Oslo"}},
    {"input": {"question": "no q here"}, "expected": "x"},
]
JUDGE = {
    "name": "judge",
    "messages": [{"role": "user", "content": "Score: {{ 1 if output == expected else 0 }}"}],
    "model": "stub/judge",
}


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with openai_stub() as url:
        yield url


@pytest.fixture
def lab(settings: Settings, stub_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=bearer(ADMIN_KEY)) as client:
        client.post("/api/v1/providers", json={"name": "stub", "kind": "openai", "base_url": stub_url})
        client.post(
            "/api/v1/prompts",
            json={"name": "ask", "messages": [{"role": "user", "content": "{{ q }}"}], "model": "stub/m"},
        )
        client.post("/api/v1/prompts", json=JUDGE)
        client.post("/api/v1/datasets", json={"name": "qa", "items": ITEMS})
        yield client


def finished(client: TestClient, experiment_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/api/v1/experiments/{experiment_id}").json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"experiment {experiment_id} did not finish: {body}")


def run(client: TestClient, **changes: Any) -> dict[str, Any]:
    body = {
        "dataset": "qa",
        "task": {"type": "prompt", "prompt": "ask"},
        "evaluators": [
            "exact_match",
            "contains",
            "rouge",
            {"name": "llm_judge", "params": {"prompt": "judge"}},
        ],
        "concurrency": 2,
        **changes,
    }
    created = client.post("/api/v1/experiments", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["total"] == 4
    return finished(client, created.json()["id"])


def test_prompt_experiment_scores_every_item_and_explains_the_rest(lab: TestClient) -> None:
    experiment = run(lab)
    assert experiment["status"] == "succeeded", experiment
    assert (experiment["done"], experiment["failed"]) == (4, 1)
    summary = experiment["summary"]
    assert summary["exact_match"]["mean"] == 0.5
    assert summary["exact_match"]["n"] == 2
    assert summary["exact_match"]["failed"] == 1  # Oslo has no expected: a reason, not a zero
    assert summary["contains"]["mean"] == 1.0
    assert summary["llm_judge"]["mean"] == pytest.approx(1 / 3)  # the judge needs no expected: 3 items
    assert summary["llm_judge"]["n"] == 3
    assert set(summary) == {"exact_match", "contains", "rouge1", "rouge2", "rougeL", "llm_judge"}
    results = {
        r["input"].get("q", "none"): r
        for r in lab.get(f"/api/v1/experiments/{experiment['id']}/results").json()["items"]
    }
    assert results["Paris"]["output"] == "echo: Paris"
    assert results["Paris"]["scores"]["exact_match"] == 1.0
    assert results["Paris"]["reasons"]["llm_judge"] == "echo: Score: 1"
    assert "no `expected`" in results["Oslo"]["score_errors"]["exact_match"]
    assert "missing variables: q" in results["none"]["error"]
    assert results["none"]["scores"] == {}
    trace = lab.get(f"/api/v1/traces/{results['Paris']['trace_id']}").json()
    assert trace["spans"][0]["attributes"]["keel.experiment.id"] == experiment["id"]
    job = lab.get(f"/api/v1/jobs/{experiment['job_id']}").json()
    assert job["status"] == "succeeded"
    assert job["progress"] == 1.0


def test_comparison_pairs_items_and_gives_a_verdict(lab: TestClient) -> None:
    first = run(lab)
    lab.post(
        "/api/v1/prompts",
        json={"name": "ask", "messages": [{"role": "user", "content": "{{ q }}?"}], "model": "stub/m"},
    )
    second = run(lab)
    comparison = lab.get("/api/v1/experiments/compare", params={"ids": [first["id"], second["id"]]}).json()
    exact = comparison["metrics"]["exact_match"][second["id"]]
    assert exact["n"] == 2
    assert exact["mean_a"] == 0.5
    assert exact["mean_b"] == 0.0
    assert exact["verdict"] in ("worse", "no difference")  # two items: too few to be sure
    assert len(comparison["items"]) == 4
    listed = lab.get("/api/v1/experiments", params={"dataset": "qa"}).json()["items"]
    assert [e["id"] for e in listed] == [second["id"], first["id"]]


def test_bad_experiments_are_refused_before_anything_runs(lab: TestClient) -> None:
    def refused(body: dict[str, Any]) -> str:
        response = lab.post("/api/v1/experiments", json=body)
        assert response.status_code in (404, 422), response.text
        return str(response.json()["detail"])

    base = {"dataset": "qa", "task": {"type": "prompt", "prompt": "ask"}, "evaluators": ["rouge"]}
    assert "unknown evaluator 'bleurt'" in refused({**base, "evaluators": ["bleurt"]})
    assert "dataset 'nope' not found" in refused({**base, "dataset": "nope"})
    assert "needs `model`" in refused({**base, "task": {"type": "model"}})
    assert "has no items" in refused({**base, "split": "test"})
    assert lab.get("/api/v1/experiments").json()["items"] == []


def test_a_judge_that_cannot_be_read_is_a_failure_per_item(lab: TestClient) -> None:
    lab.post("/api/v1/prompts", json={**JUDGE, "messages": [{"role": "user", "content": "I refuse"}]})
    experiment = run(lab, evaluators=[{"name": "llm_judge", "params": {"prompt": "judge"}}])
    assert experiment["summary"]["llm_judge"]["n"] == 0
    assert experiment["summary"]["llm_judge"]["failed"] == 3
    results = lab.get(f"/api/v1/experiments/{experiment['id']}/results").json()["items"]
    assert any("has no score" in r["score_errors"].get("llm_judge", "") for r in results)
