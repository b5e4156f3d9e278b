"""Datasets: versions as snapshots, edits, splits, JSONL/CSV import and export, items from traces."""

import json
import time

from fastapi.testclient import TestClient

from keel.tracing.internal import InternalSpan, internal_row
from tests.conftest import bearer

CSV = {"format": "csv"}
QA = [
    {"input": {"question": "capital of France?"}, "expected": "Paris"},
    {"input": {"question": "capital of Peru?"}, "expected": "Lima", "metadata": {"level": "easy"}},
    {"input": "2 + 2", "expected": "4"},
]


def items(client: TestClient, name: str, **params: object) -> list[dict]:  # type: ignore[type-arg]
    body = client.get(f"/api/v1/datasets/{name}/items", params=params).json()
    return body["items"]  # type: ignore[no-any-return]


def test_every_change_is_a_version_and_old_versions_stay_readable(client: TestClient) -> None:
    created = client.post("/api/v1/datasets", json={"name": "qa", "items": QA})
    assert created.status_code == 201, created.text
    assert created.json()["latest_version"] == 1
    assert created.json()["item_count"] == 3
    first = items(client, "qa")
    key = next(i["item_key"] for i in first if i["expected"] == "Lima")
    added = client.post("/api/v1/datasets/qa/items", json={"items": [{"input": "3 + 3", "expected": "6"}]})
    assert added.json()["latest_version"] == 2
    edited = client.patch(f"/api/v1/datasets/qa/items/{key}", json={"expected": "Lima, Peru"})
    assert edited.json()["latest_version"] == 3
    deleted = client.delete(f"/api/v1/datasets/qa/items/{first[0]['item_key']}")
    assert deleted.json()["item_count"] == 3
    assert len(items(client, "qa", version=1)) == 3
    assert {i["expected"] for i in items(client, "qa", version=1)} == {"Paris", "Lima", "4"}
    assert "Lima, Peru" in {i["expected"] for i in items(client, "qa", version=3)}
    assert len(items(client, "qa", version=4)) == 3
    history = client.get("/api/v1/datasets/qa/versions").json()["items"]
    assert [(v["version"], v["item_count"]) for v in history] == [(1, 3), (2, 4), (3, 4), (4, 3)]
    missing = client.get("/api/v1/datasets/qa/items", params={"version": 9})
    assert missing.status_code == 404
    assert "latest is 4" in missing.json()["detail"]


def test_split_is_deterministic_and_versioned(client: TestClient) -> None:
    many = [{"input": f"q{i}", "expected": f"a{i}"} for i in range(200)]
    client.post("/api/v1/datasets", json={"name": "big", "items": many})
    client.post("/api/v1/datasets/big/split", json={"test_fraction": 0.25, "seed": 7})
    test = items(client, "big", split="test", limit=200)
    train = items(client, "big", split="train", limit=200)
    assert len(test) + len(train) == 200
    assert 30 <= len(test) <= 70
    again = client.post("/api/v1/datasets/big/split", json={"test_fraction": 0.25, "seed": 7})
    assert again.json()["latest_version"] == 3
    assert items(client, "big", split="test", limit=200) == test  # same seed, same assignment, same rows
    other = client.post("/api/v1/datasets/big/split", json={"test_fraction": 0.25, "seed": 8})
    assert other.json()["latest_version"] == 4
    assert {i["item_key"] for i in items(client, "big", split="test", limit=200)} != {
        i["item_key"] for i in test
    }
    assert all(i["split"] is None for i in items(client, "big", version=1, limit=200))


def test_jsonl_and_csv_round_trip(client: TestClient) -> None:
    jsonl = "\n".join(json.dumps(item) for item in QA).encode()
    imported = client.post(
        "/api/v1/datasets/files/import",
        params={"format": "jsonl"},
        content=jsonl,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"dataset": "files", "version": 1, "added": 3, "skipped": []}
    exported = client.get("/api/v1/datasets/files/export").content.decode().splitlines()
    assert sorted(json.loads(line)["expected"] for line in exported) == ["4", "Lima", "Paris"]
    csv_body = (
        b"input.question,expected,level\ncapital of Chile?,Santiago,hard\ncapital of Japan?,Tokyo,easy\n"
    )
    via_csv = client.post(
        "/api/v1/datasets/files/import",
        params={"format": "csv"},
        content=csv_body,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert via_csv.json()["version"] == 2
    chile = next(i for i in items(client, "files") if i["expected"] == "Santiago")
    assert chile["input"] == {"question": "capital of Chile?"}
    assert chile["metadata"] == {"level": "hard"}
    as_csv = client.get("/api/v1/datasets/files/export", params={"format": "csv", "version": 2}).text
    assert as_csv.splitlines()[0] == "input,expected,split,level"
    assert '"{""question"":""capital of Chile?""}",Santiago,,hard' in as_csv


def test_bad_files_are_refused_with_every_reason_or_imported_in_part(client: TestClient) -> None:
    headers = {"Content-Type": "application/octet-stream"}
    latin = client.post(
        "/api/v1/datasets/x/import",
        content="input\ncafé\n".encode("latin-1"),
        params={"format": "csv"},
        headers=headers,
    )
    assert latin.status_code == 422
    assert "not UTF-8" in latin.json()["detail"]
    ragged = b"input,expected\na,b\nc,d,e\nf\n"
    refused = client.post(
        "/api/v1/datasets/x/import", content=ragged, params={"format": "csv"}, headers=headers
    )
    assert refused.status_code == 422
    assert "line 3: has 3 fields; the header has 2" in refused.json()["detail"]
    assert "line 4: has 1 fields" in refused.json()["detail"]
    assert client.get("/api/v1/datasets/x").status_code == 404  # nothing written
    partial = client.post(
        "/api/v1/datasets/x/import",
        content=ragged,
        params={"format": "csv", "skip_invalid": "true"},
        headers=headers,
    )
    assert partial.json()["added"] == 1
    assert [row["line"] for row in partial.json()["skipped"]] == [3, 4]
    broken = b'{"input": "ok"}\n{"input": \n{"expected": "no input"}\n'
    bad = client.post("/api/v1/datasets/y/import", content=broken, headers=headers)
    assert bad.status_code == 422
    assert "line 2: not valid JSON" in bad.json()["detail"]
    assert "line 3: input: Field required" in bad.json()["detail"]
    no_input = client.post("/api/v1/datasets", json={"name": "z", "items": [{"expected": "x"}]})
    assert no_input.status_code == 422
    assert client.get("/api/v1/datasets/z").status_code == 404


def test_items_from_traces_keep_their_source(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    project_id = client.get("/api/v1/whoami").json()["project_id"]
    now = time.time_ns()
    span = InternalSpan(
        project_id,
        "chat",
        now,
        now + 1000,
        {
            "gen_ai.request.model": "m",
            "gen_ai.input.messages": json.dumps([{"role": "user", "content": "capital of Chile?"}]),
            "gen_ai.output.messages": json.dumps([{"role": "assistant", "content": "Santiago"}]),
        },
    )
    runtime.services["tracing.writer"].submit([internal_row(span, 65536)]).result(timeout=5)
    made = client.post(
        "/api/v1/datasets/prod/from-traces", json={"trace_ids": [span.trace_id], "split": "test"}
    )
    assert made.status_code == 200, made.text
    item = items(client, "prod")[0]
    assert item["input"] == [{"role": "user", "content": "capital of Chile?"}]
    assert item["expected"] == "Santiago"
    assert item["source_trace_id"] == span.trace_id
    assert item["split"] == "test"
    unknown = client.post("/api/v1/datasets/prod/from-traces", json={"trace_ids": ["ab" * 16]})
    assert unknown.status_code == 404


def test_datasets_are_isolated_between_projects(client: TestClient) -> None:
    client.post("/api/v1/datasets", json={"name": "qa", "items": QA})
    other = client.post("/api/v1/projects", json={"name": "other"}).json()["id"]
    key = client.post("/api/v1/keys", json={"name": "o", "role": "admin", "project_id": other}).json()["key"]
    outsider = TestClient(client.app, headers=bearer(key))
    assert outsider.get("/api/v1/datasets/qa").status_code == 404
    assert outsider.get("/api/v1/datasets/qa/items").status_code == 404
    assert outsider.get("/api/v1/datasets/qa/export").status_code == 404
    assert outsider.post("/api/v1/datasets/qa/items", json={"items": [{"input": "x"}]}).status_code == 404
    assert outsider.get("/api/v1/datasets").json()["items"] == []
