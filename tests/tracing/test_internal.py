import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager

from fastapi.testclient import TestClient

from keel.tracing.internal import InternalSpan, internal_row
from keel.tracing.writer import TraceWriter


def test_internal_spans_skip_otlp_and_store_the_same_fields(tclient: TestClient) -> None:
    runtime = tclient.app.state.runtime  # type: ignore[attr-defined]
    project_id = tclient.get("/api/v1/whoami").json()["project_id"]
    now = time.time_ns()
    span = InternalSpan(
        project_id,
        "chat local/smollm2",
        now,
        now + 42_000_000,
        attributes={
            "gen_ai.request.model": "local/smollm2",
            "gen_ai.usage.input_tokens": 9,
            "gen_ai.usage.output_tokens": 4,
            "keel.route": "default",
            "keel.variant": "canary",
            "gen_ai.input.messages": '[{"role": "user", "content": "hi"}]',
            "keel.cost.usd": "0",
        },
    )
    future = runtime.services["tracing.writer"].submit([internal_row(span, 65536)])
    assert future.result(timeout=5) == 1
    trace = tclient.get(f"/api/v1/traces/{span.trace_id}").json()
    assert trace["route"] == "default"
    assert trace["variant"] == "canary"
    assert trace["total_tokens"] == 13
    assert trace["duration_ms"] == 42.0
    assert trace["spans"][0]["input"] == '[{"role": "user", "content": "hi"}]'
    assert trace["service_name"] == "keel-gateway"


def _span(project_id: str, **extra: object) -> InternalSpan:
    now = time.time_ns()
    return InternalSpan(project_id, "chat m", now, now + 1_000_000, {"gen_ai.request.model": "m"}, **extra)  # type: ignore[arg-type]


@contextmanager
def lingering_writer(client: TestClient, linger_s: float) -> Iterator[tuple[TraceWriter, str]]:
    """A trace writer of the test's own on the app's store, and the caller's project id."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    writer = TraceWriter(runtime.sessions, max_queued=1000, max_batch=100, linger_s=linger_s)
    writer.start()
    try:
        yield writer, client.get("/api/v1/whoami").json()["project_id"]
    finally:
        writer.stop()


def background(writer: TraceWriter, project_id: str, count: int) -> list[Future[int]]:
    return [writer.submit([internal_row(_span(project_id), 4096)], background=True) for _ in range(count)]


def test_background_spans_are_gathered_into_one_commit(tclient: TestClient) -> None:
    with lingering_writer(tclient, 0.2) as (writer, project_id):
        futures = background(writer, project_id, 10)
        assert [f.result(timeout=5) for f in futures] == [1] * 10
        assert writer.commits == 1
        assert writer.committed_spans == 10


def test_a_barrier_returns_once_everything_before_it_is_committed(tclient: TestClient) -> None:
    with lingering_writer(tclient, 0.3) as (writer, project_id):
        futures = background(writer, project_id, 5)
        writer.barrier(timeout=5)
        assert all(f.done() for f in futures)
        assert writer.committed_spans == 5
        writer.barrier(timeout=5)  # with nothing queued it returns at once
        assert writer.commits == 1


def test_a_span_joining_a_stored_trace_updates_its_rollup(tclient: TestClient) -> None:
    runtime = tclient.app.state.runtime  # type: ignore[attr-defined]
    project_id = tclient.get("/api/v1/whoami").json()["project_id"]
    writer = runtime.services["tracing.writer"]
    root = _span(project_id)
    writer.submit([internal_row(root, 4096)]).result(timeout=5)
    child = _span(project_id, trace_id=root.trace_id, parent_span_id=root.span_id, new_trace=False)
    writer.submit([internal_row(child, 4096)]).result(timeout=5)
    trace = tclient.get(f"/api/v1/traces/{root.trace_id}").json()
    assert trace["span_count"] == 2
