"""Feedback on traces and experiment items, and its summary by prompt version."""

import time

from fastapi.testclient import TestClient

from keel.tracing.internal import InternalSpan, internal_row
from tests.conftest import bearer


def trace(client: TestClient, prompt_version: str) -> str:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    project_id = client.get("/api/v1/whoami").json()["project_id"]
    now = time.time_ns()
    span = InternalSpan(project_id, "chat", now, now + 1000, {"keel.prompt.version": prompt_version})
    runtime.services["tracing.writer"].submit([internal_row(span, 4096)]).result(timeout=5)
    return span.trace_id


def test_feedback_is_recorded_listed_and_summarised_by_prompt_version(client: TestClient) -> None:
    ids = {v: [trace(client, v) for _ in range(2)] for v in ("greet@1", "greet@2")}
    for version, value in (("greet@1", 0.0), ("greet@2", 1.0)):
        for trace_id in ids[version]:
            saved = client.post(
                "/api/v1/feedback", json={"trace_id": trace_id, "name": "thumbs", "value": value}
            )
            assert saved.status_code == 201, saved.text
    client.post(
        "/api/v1/feedback",
        json={"trace_id": ids["greet@2"][0], "name": "tone", "label": "friendly", "comment": "nice"},
    )
    early = client.post("/api/v1/feedback", json={"trace_id": "f" * 32, "name": "thumbs", "value": 1})
    assert early.status_code == 201  # a trace that has not landed yet still takes feedback
    listed = client.get("/api/v1/feedback", params={"trace_id": ids["greet@2"][0]}).json()["items"]
    assert {f["name"] for f in listed} == {"thumbs", "tone"}
    summary = client.get("/api/v1/feedback/summary", params={"group_by": "prompt_version"}).json()["items"]
    by = {(s["group"], s["name"]): s for s in summary}
    assert by[("greet@1", "thumbs")]["mean"] == 0.0
    assert by[("greet@2", "thumbs")]["mean"] == 1.0
    assert by[("greet@2", "thumbs")]["n"] == 2
    assert by[("greet@2", "tone")]["labels"] == {"friendly": 1}
    feedback_id = listed[0]["id"]
    assert client.delete(f"/api/v1/feedback/{feedback_id}").status_code == 204
    assert client.delete(f"/api/v1/feedback/{feedback_id}").status_code == 404


def test_bad_feedback_is_refused(client: TestClient) -> None:
    cases = [
        ({"name": "x", "value": 1}, "either trace_id"),
        ({"trace_id": "zz", "name": "x", "value": 1}, "trace_id"),
        ({"trace_id": "a" * 32, "name": "x"}, "value, a label or a comment"),
        ({"experiment_id": "exp_1", "name": "x", "value": 1}, "both experiment_id and item_key"),
        ({"trace_id": "a" * 32, "name": "has space", "value": 1}, "name"),
    ]
    for body, message in cases:
        response = client.post("/api/v1/feedback", json=body)
        assert response.status_code == 422, body
        assert message in response.text, (body, response.text)
    missing = client.post(
        "/api/v1/feedback", json={"experiment_id": "exp_nope", "item_key": "k", "name": "x", "value": 1}
    )
    assert missing.status_code == 404
    assert client.get("/api/v1/feedback/summary", params={"group_by": "colour"}).status_code == 422


def test_feedback_is_isolated_between_projects(client: TestClient) -> None:
    trace_id = trace(client, "p@1")
    client.post("/api/v1/feedback", json={"trace_id": trace_id, "name": "thumbs", "value": 1})
    other = client.post("/api/v1/projects", json={"name": "other"}).json()["id"]
    key = client.post("/api/v1/keys", json={"name": "o", "role": "member", "project_id": other}).json()["key"]
    outsider = TestClient(client.app, headers=bearer(key))
    assert outsider.get("/api/v1/feedback").json()["items"] == []
    own = client.get("/api/v1/feedback").json()["items"][0]["id"]
    assert outsider.delete(f"/api/v1/feedback/{own}").status_code == 404
    outsider.post("/api/v1/feedback", json={"trace_id": trace_id, "name": "thumbs", "value": 0})
    assert outsider.get("/api/v1/feedback/summary").json()["items"] == []  # the trace is not theirs


def test_trace_aggregates_carry_a_feedback_score(client: TestClient) -> None:
    liked = [trace(client, "v@1") for _ in range(3)]
    disliked = trace(client, "v@2")
    for trace_id in liked[:2]:
        client.post("/api/v1/feedback", json={"trace_id": trace_id, "name": "thumbs", "value": 1})
    client.post("/api/v1/feedback", json={"trace_id": disliked, "name": "thumbs", "value": 0})
    params = {"bucket": "1d", "group_by": "prompt_version", "feedback": "thumbs"}
    rows = {r["group"]: r for r in client.get("/api/v1/traces/aggregates", params=params).json()["items"]}
    assert rows["v@1"]["count"] == 3
    assert rows["v@1"]["feedback"] == {"name": "thumbs", "n": 2, "mean": 1.0}
    assert rows["v@2"]["feedback"] == {"name": "thumbs", "n": 1, "mean": 0.0}
    plain = client.get("/api/v1/traces/aggregates", params={"bucket": "1d"}).json()["items"]
    assert plain[0]["feedback"] is None
