import time

from fastapi.testclient import TestClient

from keel.tracing.internal import InternalSpan, internal_row


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
