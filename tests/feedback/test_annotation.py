"""Annotation queues: items go to reviewers one at a time, reviews become feedback, progress and agreement."""

import json
import time

from fastapi.testclient import TestClient

from keel.tracing.internal import InternalSpan, internal_row
from tests.conftest import bearer


def trace(client: TestClient, answer: str) -> str:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    project_id = client.get("/api/v1/whoami").json()["project_id"]
    now = time.time_ns()
    attributes = {
        "gen_ai.input.messages": json.dumps([{"role": "user", "content": "2+2?"}]),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "content": answer}]),
    }
    span = InternalSpan(project_id, "chat", now, now + 1000, attributes)
    runtime.services["tracing.writer"].submit([internal_row(span, 65536)]).result(timeout=5)
    return span.trace_id


def reviewer(client: TestClient, name: str) -> TestClient:
    project_id = client.get("/api/v1/whoami").json()["project_id"]
    key = client.post("/api/v1/keys", json={"name": name, "role": "member", "project_id": project_id}).json()[
        "key"
    ]
    return TestClient(client.app, headers=bearer(key))


def test_two_reviewers_work_through_a_queue_and_their_agreement_is_measured(client: TestClient) -> None:
    queue = {"name": "correctness", "score_names": ["correct"], "reviews_per_item": 2}
    assert client.post("/api/v1/annotation-queues", json=queue).status_code == 201
    ids = [trace(client, "4"), trace(client, "5")]
    added = client.post("/api/v1/annotation-queues/correctness/items", json={"trace_ids": ids})
    assert added.json() == {"added": 2}
    ann, bob = reviewer(client, "ann"), reviewer(client, "bob")
    verdicts = {"ann": {ids[0]: 1.0, ids[1]: 0.0}, "bob": {ids[0]: 1.0, ids[1]: 1.0}}
    for name, person in (("ann", ann), ("bob", bob)):
        for _ in range(2):
            item = person.get("/api/v1/annotation-queues/correctness/next")
            assert item.status_code == 200
            assert "2+2?" in item.json()["input"]
            score = verdicts[name][item.json()["trace_id"]]
            done = person.post(
                f"/api/v1/annotation-queues/correctness/items/{item.json()['id']}/review",
                json={"scores": {"correct": score}, "comment": f"{name} says {score}"},
            )
            assert done.status_code == 200, done.text
        assert person.get("/api/v1/annotation-queues/correctness/next").status_code == 204
    progress = client.get("/api/v1/annotation-queues/correctness").json()
    assert (progress["total"], progress["done"], progress["pending"]) == (2, 2, 0)
    assert sorted(progress["reviewers"].values()) == [2, 2]
    agreement = progress["agreement"]["correct"]
    assert agreement == {"items": 2, "pairs": 2, "exact_agreement": 0.5, "mean_abs_difference": 0.5}
    on_first = client.get("/api/v1/feedback", params={"trace_id": ids[0]}).json()["items"]
    assert {f["source"] for f in on_first} == {"annotation:correctness"}
    assert len(on_first) == 2


def test_reviews_are_checked(client: TestClient) -> None:
    client.post("/api/v1/annotation-queues", json={"name": "q", "score_names": ["correct"]})
    client.post("/api/v1/annotation-queues/q/items", json={"trace_ids": [trace(client, "4")]})
    item = client.get("/api/v1/annotation-queues/q/next").json()
    url = f"/api/v1/annotation-queues/q/items/{item['id']}/review"
    wrong = client.post(url, json={"scores": {"tone": 1}})
    assert wrong.status_code == 422
    assert "this queue scores correct" in wrong.json()["detail"]
    assert client.post(url, json={}).status_code == 422
    assert client.post(url, json={"scores": {"correct": 1}}).status_code == 200
    assert client.post(url, json={"scores": {"correct": 1}}).status_code == 409
    assert (
        client.post("/api/v1/annotation-queues/q/items/ai_nope/review", json={"skip": True}).status_code
        == 404
    )
    assert (
        client.post("/api/v1/annotation-queues", json={"name": "q", "score_names": ["x"]}).status_code == 409
    )
    assert client.post("/api/v1/annotation-queues/q/items", json={}).status_code == 422


def test_a_skipped_item_goes_to_someone_else(client: TestClient) -> None:
    client.post("/api/v1/annotation-queues", json={"name": "q", "score_names": ["correct"]})
    client.post("/api/v1/annotation-queues/q/items", json={"trace_ids": [trace(client, "4")]})
    ann, bob = reviewer(client, "ann"), reviewer(client, "bob")
    item = ann.get("/api/v1/annotation-queues/q/next").json()
    ann.post(f"/api/v1/annotation-queues/q/items/{item['id']}/review", json={"skip": True})
    assert ann.get("/api/v1/annotation-queues/q/next").status_code == 204
    assert bob.get("/api/v1/annotation-queues/q/next").json()["id"] == item["id"]
