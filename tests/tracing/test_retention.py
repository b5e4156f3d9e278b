"""Per-project retention and the bounded background sweep; backpressure when the writer falls behind."""

import time

import pytest
from fastapi.testclient import TestClient

from keel.tracing.writer import Overloaded, TraceWriter
from tests.tracing.conftest import export
from tests.tracing.factory import llm_trace, request

DAY_NS = 86_400 * 1_000_000_000


def test_retention_is_per_project_and_sweep_deletes_in_batches(tclient: TestClient) -> None:
    assert tclient.get("/api/v1/traces/retention").json() == {"days": 30}
    assert tclient.put("/api/v1/traces/retention", json={"days": 7}).json() == {"days": 7}
    assert tclient.put("/api/v1/traces/retention", json={"days": -1}).status_code == 422
    now = time.time_ns()
    old = [s for i in range(5) for s in llm_trace(start_ns=now - 10 * DAY_NS - i)]
    export(tclient, request(*old, *llm_trace(start_ns=now)))
    runtime = tclient.app.state.runtime  # type: ignore[attr-defined]
    runtime.settings = runtime.settings.model_copy(update={"trace_sweep_batch": 3})
    deleted = runtime.services["tracing.retention"].sweep_once()
    assert deleted == 10
    items = tclient.get("/api/v1/traces").json()["items"]
    assert len(items) == 1
    assert items[0]["start_time"] > "2026"


def test_zero_days_keeps_forever(tclient: TestClient) -> None:
    tclient.put("/api/v1/traces/retention", json={"days": 0})
    export(tclient, request(*llm_trace(start_ns=time.time_ns() - 400 * DAY_NS)))
    runtime = tclient.app.state.runtime  # type: ignore[attr-defined]
    assert runtime.services["tracing.retention"].sweep_once() == 0


def test_viewer_cannot_change_retention(tclient: TestClient) -> None:
    viewer = tclient.post("/api/v1/keys", json={"name": "v", "role": "viewer"}).json()["key"]
    response = tclient.put(
        "/api/v1/traces/retention", json={"days": 1}, headers={"authorization": f"Bearer {viewer}"}
    )
    assert response.status_code == 403


def test_writer_refuses_beyond_its_queue_instead_of_growing(tclient: TestClient) -> None:
    runtime = tclient.app.state.runtime  # type: ignore[attr-defined]
    writer = TraceWriter(runtime.sessions, max_queued=10, max_batch=5)  # not started: nothing drains
    writer.submit([{}] * 8)
    with pytest.raises(Overloaded) as info:
        writer.submit([{}] * 5)
    assert info.value.status == 503
    assert info.value.extra["retry_after"] == 1


def test_stopped_writer_answers_503_with_retry_after(tclient: TestClient) -> None:
    runtime = tclient.app.state.runtime  # type: ignore[attr-defined]
    runtime.services["tracing.writer"].stop()
    body = request(*llm_trace()).SerializeToString()
    response = tclient.post("/v1/traces", content=body, headers={"content-type": "application/x-protobuf"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "overloaded"
