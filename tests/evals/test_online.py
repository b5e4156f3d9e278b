"""Online evaluation: rules sample production traces, score them once, and put the scores on the traces."""

import json
import time

from fastapi.testclient import TestClient

from keel.tracing.internal import InternalSpan, internal_row


def trace(client: TestClient, model: str, answer: str) -> str:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    project_id = client.get("/api/v1/whoami").json()["project_id"]
    now = time.time_ns()
    attributes = {
        "gen_ai.request.model": model,
        "gen_ai.input.messages": json.dumps([{"role": "user", "content": "capital of France?"}]),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "content": answer}]),
    }
    span = InternalSpan(project_id, "chat", now, now + 1000, attributes)
    runtime.services["tracing.writer"].submit([internal_row(span, 65536)]).result(timeout=5)
    return span.trace_id


def test_rules_score_matching_traces_once_and_explain_what_they_cannot(client: TestClient) -> None:
    rule = {
        "name": "paris-check",
        "filter": {"model": "prod-model"},
        "evaluators": [{"name": "contains", "params": {"value": "Paris"}}, "rouge"],
    }
    created = client.post("/api/v1/online-evals", json=rule)
    assert created.status_code == 201, created.text
    good = trace(client, "prod-model", "It is Paris.")
    bad = trace(client, "prod-model", "It is Lyon.")
    other = trace(client, "dev-model", "Paris")
    assert client.post("/api/v1/online-evals/run").json() == {"scored": 2}
    assert client.post("/api/v1/online-evals/run").json() == {"scored": 0}  # once per trace

    def on(trace_id: str) -> dict[str, dict]:  # type: ignore[type-arg]
        items = client.get("/api/v1/feedback", params={"trace_id": trace_id}).json()["items"]
        return {f["name"]: f for f in items}

    assert on(good)["contains"]["value"] == 1.0
    assert on(good)["contains"]["source"] == "online:paris-check"
    assert on(bad)["contains"]["value"] == 0.0
    assert on(bad)["rougeL"]["label"] == "not scored"
    assert "no `expected`" in on(bad)["rougeL"]["comment"]
    assert on(other) == {}
    assert client.get("/api/v1/online-evals/paris-check").json()["evaluated"] == 2


def test_sampling_is_deterministic_and_rules_can_be_paused(client: TestClient) -> None:
    rule = {"name": "half", "sample_rate": 0.5, "evaluators": [{"name": "regex", "params": {"pattern": "P"}}]}
    client.post("/api/v1/online-evals", json=rule)
    ids = [trace(client, "m", f"answer {i}") for i in range(40)]
    scored = client.post("/api/v1/online-evals/run").json()["scored"]
    assert 8 <= scored <= 32
    assert (
        sum(bool(client.get("/api/v1/feedback", params={"trace_id": t}).json()["items"]) for t in ids)
        == scored
    )
    client.post("/api/v1/online-evals/half/disable")
    trace(client, "m", "later")
    assert client.post("/api/v1/online-evals/run").json() == {"scored": 0}


def test_bad_rules_are_refused(client: TestClient) -> None:
    base = {"name": "r", "evaluators": ["contains"]}
    assert client.post("/api/v1/online-evals", json={**base, "evaluators": ["nope"]}).status_code == 422
    unknown_filter = client.post("/api/v1/online-evals", json={**base, "filter": {"colour": "red"}})
    assert unknown_filter.status_code == 422
    assert "unknown filter(s) colour" in unknown_filter.json()["detail"]
    assert client.post("/api/v1/online-evals", json={**base, "sample_rate": 0}).status_code == 422
    assert client.post("/api/v1/online-evals", json=base).status_code == 201
    assert client.post("/api/v1/online-evals", json=base).status_code == 409
