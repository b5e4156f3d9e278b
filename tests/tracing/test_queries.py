"""Trace list filters, sorting, keyset pagination, the span tree and aggregates."""

import time

from fastapi.testclient import TestClient

from tests.tracing.conftest import export
from tests.tracing.factory import llm_trace, request

HOUR_NS = 3600 * 1_000_000_000


def seed(client: TestClient) -> int:
    base = (time.time_ns() // HOUR_NS - 2) * HOUR_NS
    spans = [
        *llm_trace(
            "gpt-4o",
            prompt="capital of France",
            answer="Paris",
            tokens=(10, 2),
            cost="0.01",
            user="alice",
            session="s1",
            tags=("prod", "geo"),
            start_ns=base + 1,
            duration_ms=100,
        ),
        *llm_trace(
            "gpt-4o",
            prompt="2+2",
            answer="4",
            tokens=(5, 1),
            cost="0.002",
            user="bob",
            session="s2",
            tags=("prod",),
            start_ns=base + 2,
            duration_ms=300,
        ),
        *llm_trace(
            "llama-3",
            prompt="hello",
            answer="hi",
            tokens=(3, 1),
            cost="0",
            user="alice",
            session="s1",
            tags=("dev",),
            start_ns=base + HOUR_NS,
            duration_ms=50,
            error="rate limited",
        ),
    ]
    export(client, request(*spans))
    return base


def names(client: TestClient, **params: object) -> list[str]:
    items = client.get("/api/v1/traces", params=params).json()["items"]
    return [item["model"] + ":" + (item["user_id"] or "") for item in items]


def test_filters(tclient: TestClient) -> None:
    seed(tclient)
    assert names(tclient, model="gpt-4o") == ["gpt-4o:bob", "gpt-4o:alice"]
    assert names(tclient, status="error") == ["llama-3:alice"]
    assert names(tclient, user="alice", session="s1") == ["llama-3:alice", "gpt-4o:alice"]
    assert names(tclient, tag="geo") == ["gpt-4o:alice"]
    assert names(tclient, tag="ge") == []
    assert names(tclient, min_latency_ms=200) == ["gpt-4o:bob"]
    assert names(tclient, min_cost_usd="0.005") == ["gpt-4o:alice"]
    assert names(tclient, q="FRANCE") == ["gpt-4o:alice"]
    assert names(tclient, q="100%") == []


def test_time_range_and_sorting(tclient: TestClient) -> None:
    base = seed(tclient)
    from datetime import UTC, datetime

    since = datetime.fromtimestamp((base + HOUR_NS) / 1e9, UTC).isoformat()
    assert names(tclient, since=since) == ["llama-3:alice"]
    assert names(tclient, until=since) == ["gpt-4o:bob", "gpt-4o:alice"]
    assert names(tclient, sort="duration", order="desc")[0] == "gpt-4o:bob"
    assert names(tclient, sort="cost", order="asc")[0] == "llama-3:alice"
    naive = tclient.get("/api/v1/traces", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422
    assert "time zone" in naive.json()["detail"]


def test_keyset_pagination_visits_every_trace_once(tclient: TestClient) -> None:
    start = time.time_ns()
    spans = [s for i in range(7) for s in llm_trace(start_ns=start - i * 1000, duration_ms=float(i % 3))]
    export(tclient, request(*spans))
    for sort in ("start", "duration"):
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 3, "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = tclient.get("/api/v1/traces", params=params).json()
            seen += [t["trace_id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 7


def test_unknown_query_parameter_is_rejected(tclient: TestClient) -> None:
    response = tclient.get("/api/v1/traces", params={"modle": "x"})
    assert response.status_code == 422
    assert "modle" in response.json()["detail"]


def test_trace_detail_is_a_tree_with_totals(tclient: TestClient) -> None:
    seed(tclient)
    trace_id = tclient.get("/api/v1/traces", params={"status": "error"}).json()["items"][0]["trace_id"]
    detail = tclient.get(f"/api/v1/traces/{trace_id.upper()}").json()
    assert detail["status"] == "error"
    assert detail["error_count"] == 1
    root = detail["spans"][0]
    assert root["name"] == "answer-question"
    assert root["children"][0]["status_message"] == "rate limited"
    assert tclient.get("/api/v1/traces/" + "0" * 32).status_code == 404


def test_aggregates_by_model_and_tag(tclient: TestClient) -> None:
    seed(tclient)
    rows = tclient.get("/api/v1/traces/aggregates", params={"bucket": "1d", "group_by": "model"}).json()
    by_model = {row["group"]: row for row in rows["items"]}
    assert by_model["gpt-4o"]["count"] == 2
    assert by_model["gpt-4o"]["errors"] == 0
    assert by_model["gpt-4o"]["total_tokens"] == 18
    assert by_model["gpt-4o"]["cost_usd"] == "0.012"
    assert by_model["gpt-4o"]["p50_ms"] >= 110
    assert by_model["gpt-4o"]["p99_ms"] >= 310
    assert by_model["llama-3"]["error_rate"] == 1.0
    hourly = tclient.get("/api/v1/traces/aggregates", params={"bucket": "1h"}).json()["items"]
    assert [row["count"] for row in hourly] == [2, 1]
    tags = tclient.get("/api/v1/traces/aggregates", params={"bucket": "1d", "group_by": "tag"}).json()
    assert {row["group"]: row["count"] for row in tags["items"]} == {"dev": 1, "geo": 1, "prod": 2}


def test_projects_never_see_each_others_traces(tclient: TestClient) -> None:
    project = tclient.post("/api/v1/projects", json={"name": "other"}).json()
    other = tclient.post("/api/v1/keys", json={"name": "k", "project_id": project["id"]}).json()["key"]
    seed(tclient)
    trace_id = tclient.get("/api/v1/traces").json()["items"][0]["trace_id"]
    headers = {"authorization": f"Bearer {other}"}
    assert tclient.get("/api/v1/traces", headers=headers).json()["items"] == []
    assert tclient.get(f"/api/v1/traces/{trace_id}", headers=headers).status_code == 404
    rows = tclient.get("/api/v1/traces/aggregates", params={"bucket": "1d"}, headers=headers).json()
    assert rows["items"] == []
