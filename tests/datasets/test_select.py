"""Production → dataset: gateway calls through the openai SDK, thumbs on some of them, then a selector that
filters by route, keeps only thumbs-up traces, drops repeated inputs (also on a second run), samples
deterministically and writes one new version with lineage to each trace; a dry run writes nothing."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.gateway.test_chat import sdk
from tests.stubs.openai_stub import openai_stub


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with openai_stub() as url:
        yield url


def traced(client: TestClient, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        items: list[dict[str, Any]] = client.get("/api/v1/traces", params={"limit": 200}).json()["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.05)


@pytest.fixture
def production(client: TestClient, stub_url: str) -> dict[str, str]:
    """Ten calls on `support` (8 distinct questions), two on `other`; thumbs up on six, down on two."""
    assert client.post(
        "/api/v1/providers", json={"name": "up", "kind": "openai", "base_url": stub_url}
    ).is_success
    for name in ("support", "other"):
        body = {"name": name, "targets": [{"provider": "up", "model": "m"}]}
        assert client.post("/api/v1/routes", json=body).is_success
    api = sdk(client)
    questions = [f"question {n}" for n in range(8)] + ["question 0", "question  1 "]
    for text in questions:
        api.chat.completions.create(model="support", messages=[{"role": "user", "content": text}])
    for text in ("elsewhere 1", "elsewhere 2"):
        api.chat.completions.create(model="other", messages=[{"role": "user", "content": text}])
    by_input = {}
    for trace in traced(client, 12):
        by_input.setdefault(trace["input"], trace["trace_id"])
    ids = {text: tid for inp, tid in by_input.items() for text in questions if f'"{text}"' in inp}
    for text in ("question 0", "question 1", "question 2", "question 3", "question 4", "question 5"):
        assert client.post(
            "/api/v1/feedback", json={"trace_id": ids[text], "name": "thumbs", "value": 1}
        ).is_success
    for text in ("question 6", "question 7"):
        assert client.post(
            "/api/v1/feedback", json={"trace_id": ids[text], "name": "thumbs", "value": 0}
        ).is_success
    return ids


def test_a_selector_writes_the_good_distinct_traces_as_a_version(
    client: TestClient, production: dict[str, str]
) -> None:
    selector = {"filters": {"route": "support"}, "scores": [{"name": "thumbs", "min": 1}]}
    dry = client.post("/api/v1/datasets/golden/select", json={**selector, "dry_run": True}).json()
    assert dry["version"] is None
    assert dry["considered"] == 10
    assert client.get("/api/v1/datasets/golden").status_code == 404  # a dry run writes nothing

    done = client.post("/api/v1/datasets/golden/select", json=selector)
    assert done.status_code == 200, done.text
    found = done.json()
    assert found["considered"] == 10
    assert found["scored_out"] == 4  # two thumbs-down, two repeats without feedback of their own
    assert found["added"] == 6
    assert found["version"] == 1
    items = client.get("/api/v1/datasets/golden/items").json()["items"]
    assert len(items) == 6
    assert all(i["source_trace_id"] for i in items)
    assert all(i["expected"].startswith("echo: question") for i in items)
    assert {i["metadata"]["score.thumbs"] for i in items} == {1.0}

    again = client.post("/api/v1/datasets/golden/select", json=selector).json()
    assert again["added"] == 0  # everything it would pick is already in the dataset
    assert again["duplicates"] == 6
    assert again["version"] is None
    assert client.get("/api/v1/datasets/golden").json()["latest_version"] == 1


def test_dedup_sampling_and_limits(client: TestClient, production: dict[str, str]) -> None:
    everything = client.post("/api/v1/datasets/all/select", json={"filters": {"route": "support"}}).json()
    assert everything["added"] == 8  # "question 0" twice and "question  1 " (spacing) are the same inputs
    assert everything["duplicates"] == 2
    half = {"filters": {"route": "support"}, "fraction": 0.5, "seed": 7, "dry_run": True}
    first = client.post("/api/v1/datasets/sampled/select", json=half).json()
    second = client.post("/api/v1/datasets/sampled/select", json=half).json()
    assert first["trace_ids"] == second["trace_ids"]  # deterministic
    assert 0 < first["sampled_out"] < 10
    capped = client.post("/api/v1/datasets/few/select", json={"max_items": 3}).json()
    assert capped["added"] == 3


@pytest.mark.parametrize(
    "body",
    [
        {"fraction": 0},
        {"filters": {"status": "maybe"}},
        {"scores": [{"name": ""}]},
        {"filters": {"since": "yesterday"}},
        {"unknown": 1},
    ],
)
def test_bad_selectors_are_refused(client: TestClient, body: dict[str, Any]) -> None:
    reply = client.post("/api/v1/datasets/x/select", json=body)
    assert reply.status_code == 422
    assert client.get("/api/v1/datasets/x").status_code == 404


def test_expected_answers_can_come_from_reviewers_corrections(
    client: TestClient, production: dict[str, str]
) -> None:
    fix = {"trace_id": production["question 6"], "name": "correction", "label": "the right answer"}
    assert client.post("/api/v1/feedback", json=fix).is_success
    found = client.post("/api/v1/datasets/fixed/select", json={"expected_from": "feedback:correction"}).json()
    assert found["added"] == 1
    assert found["no_input"] == 11
    items = client.get("/api/v1/datasets/fixed/items").json()["items"]
    assert items[0]["expected"] == "the right answer"
