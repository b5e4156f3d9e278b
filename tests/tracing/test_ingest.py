"""OTLP/HTTP ingest: protobuf, JSON and gzip bodies; per-span rejection; idempotent retries; bad input."""

import gzip
import json
import os

from fastapi.testclient import TestClient
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tests.tracing.conftest import PROTOBUF, export
from tests.tracing.factory import llm_trace, request, span


def test_protobuf_export_is_queryable_immediately_after_200(tclient: TestClient) -> None:
    spans = llm_trace()
    response = export(tclient, request(*spans))
    reply = ExportTraceServiceResponse.FromString(response.content)  # type: ignore[attr-defined]
    assert reply.partial_success.rejected_spans == 0
    items = tclient.get("/api/v1/traces").json()["items"]
    assert len(items) == 1
    trace = items[0]
    assert trace["trace_id"] == spans[0].trace_id.hex()
    assert trace["name"] == "answer-question"
    assert trace["model"] == "gpt-4o-mini"
    assert trace["provider"] == "openai"
    assert (trace["prompt_tokens"], trace["completion_tokens"], trace["total_tokens"]) == (12, 3, 15)
    assert trace["cost_usd"] == "0.00042"
    assert trace["user_id"] == "u1"
    assert trace["session_id"] == "s1"
    assert trace["tags"] == ["prod"]
    assert trace["span_count"] == 2
    assert trace["llm_calls"] == 1
    assert trace["has_root"] is True
    assert trace["service_name"] == "test-app"
    assert "What is 2+2?" in trace["input"]
    assert "4" in trace["output"]


def test_json_export_with_hex_ids(tclient: TestClient) -> None:
    trace_id, span_id = os.urandom(16).hex(), os.urandom(8).hex()
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "js-app"}}]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": span_id,
                                "name": "llm",
                                "kind": 3,
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000000250000000",
                                "attributes": [
                                    {"key": "llm.model_name", "value": {"stringValue": "claude-3-5"}},
                                    {"key": "llm.token_count.prompt", "value": {"intValue": "7"}},
                                    {"key": "input.value", "value": {"stringValue": "hello"}},
                                ],
                                "status": {"code": 1},
                            }
                        ]
                    }
                ],
            }
        ]
    }
    response = tclient.post("/v1/traces", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {}
    trace = tclient.get(f"/api/v1/traces/{trace_id}").json()
    assert trace["model"] == "claude-3-5"
    assert trace["duration_ms"] == 250.0
    assert trace["spans"][0]["prompt_tokens"] == 7
    assert trace["spans"][0]["input"] == "hello"
    assert trace["service_name"] == "js-app"


def test_gzip_body(tclient: TestClient) -> None:
    body = gzip.compress(request(*llm_trace()).SerializeToString())
    response = tclient.post("/v1/traces", content=body, headers={**PROTOBUF, "content-encoding": "gzip"})
    assert response.status_code == 200
    assert len(tclient.get("/api/v1/traces").json()["items"]) == 1


def test_retried_export_stores_nothing_twice(tclient: TestClient) -> None:
    message = request(*llm_trace())
    export(tclient, message)
    export(tclient, message)
    items = tclient.get("/api/v1/traces").json()["items"]
    assert len(items) == 1
    assert items[0]["span_count"] == 2
    assert items[0]["total_tokens"] == 15


def test_invalid_spans_are_rejected_and_the_rest_stored(tclient: TestClient) -> None:
    good = span("good")
    bad_trace = span("bad-trace-id", trace_id=b"\x00" * 16)
    bad_span = span("short-span-id", span_id=b"\x01\x02")
    response = export(tclient, request(good, bad_trace, bad_span))
    reply = ExportTraceServiceResponse.FromString(response.content)  # type: ignore[attr-defined]
    assert reply.partial_success.rejected_spans == 2
    assert "bad-trace-id" in reply.partial_success.error_message
    assert [t["name"] for t in tclient.get("/api/v1/traces").json()["items"]] == ["good"]


def test_unreadable_bodies_get_precise_400s(tclient: TestClient) -> None:
    cases = [
        (b"\xff\xff\xff not protobuf", PROTOBUF, "not an OTLP ExportTraceServiceRequest"),
        (b"{not json", {"content-type": "application/json"}, "not OTLP/JSON"),
        (b"abc", {"content-type": "text/plain"}, "unsupported Content-Type"),
        (b"abc", {**PROTOBUF, "content-encoding": "gzip"}, "not valid gzip"),
        (b"abc", {**PROTOBUF, "content-encoding": "br"}, "unsupported Content-Encoding"),
    ]
    for body, headers, message in cases:
        response = tclient.post("/v1/traces", content=body, headers=headers)
        assert response.status_code in (400, 422), (message, response.text)
        assert message in response.json()["error"]["message"]
    assert tclient.get("/api/v1/traces").json()["items"] == []


def test_gzip_bomb_is_refused(tclient: TestClient) -> None:
    bomb = gzip.compress(b"\x00" * (20 * 1024 * 1024))
    response = tclient.post("/v1/traces", content=bomb, headers={**PROTOBUF, "content-encoding": "gzip"})
    assert response.status_code == 413


def test_huge_values_are_truncated_with_marker(tclient: TestClient) -> None:
    huge = "x" * 200_000
    export(tclient, request(span("big", attributes={"input.value": huge, "note": huge})))
    trace_id = tclient.get("/api/v1/traces").json()["items"][0]["trace_id"]
    stored = tclient.get(f"/api/v1/traces/{trace_id}").json()["spans"][0]
    assert len(stored["input"]) < 70_000
    assert stored["input"].endswith("bytes]")
    assert "…[truncated" in stored["attributes"]["note"]


def test_clock_skew_and_orphans_are_stored(tclient: TestClient) -> None:
    skewed = span("skewed")
    skewed.end_time_unix_nano = skewed.start_time_unix_nano - 5_000
    orphan = span("orphan", parent=os.urandom(8))
    export(tclient, request(skewed, orphan))
    by_name = {t["name"]: t for t in tclient.get("/api/v1/traces").json()["items"]}
    assert by_name["skewed"]["duration_ms"] == 0
    assert by_name["orphan"]["has_root"] is False
    detail = tclient.get(f"/api/v1/traces/{by_name['skewed']['trace_id']}").json()
    assert "clamped" in detail["spans"][0]["attributes"]["keel.warning"]


def test_late_root_completes_the_trace(tclient: TestClient) -> None:
    root, chat = llm_trace()
    export(tclient, request(chat))
    first = tclient.get("/api/v1/traces").json()["items"][0]
    assert first["has_root"] is False
    assert first["span_count"] == 1
    export(tclient, request(root))
    trace = tclient.get(f"/api/v1/traces/{first['trace_id']}").json()
    assert trace["has_root"] is True
    assert trace["name"] == "answer-question"
    assert trace["span_count"] == 2
    assert [s["name"] for s in trace["spans"]] == ["answer-question"]
    assert trace["spans"][0]["children"][0]["model"] == "gpt-4o-mini"


def test_viewer_cannot_export_and_key_is_required(tclient: TestClient) -> None:
    viewer = tclient.post("/api/v1/keys", json={"name": "v", "role": "viewer"}).json()["key"]
    body = request(span()).SerializeToString()
    denied = tclient.post(
        "/v1/traces", content=body, headers={**PROTOBUF, "authorization": f"Bearer {viewer}"}
    )
    assert denied.status_code == 403
    assert denied.json()["error"]["type"] == "permission_error"
    missing = tclient.post("/v1/traces", content=body, headers={**PROTOBUF, "authorization": ""})
    assert missing.status_code == 401


def test_openinference_and_openllmetry_flattened_messages(tclient: TestClient) -> None:
    attrs = {
        "openinference.span.kind": "LLM",
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": "Be brief.",
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.content": "Hi",
        "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": "Hello",
        "llm.token_count.prompt": 5,
        "llm.token_count.completion": 1,
        "llm.token_count.total": 6,
        "llm.provider": "anthropic",
        "llm.model_name": "claude",
        "tag.tags": ["a", "b"],
    }
    export(tclient, request(span("oi", attributes=attrs)))
    trace_id = tclient.get("/api/v1/traces").json()["items"][0]["trace_id"]
    stored = tclient.get(f"/api/v1/traces/{trace_id}").json()["spans"][0]
    assert stored["span_type"] == "llm"
    assert stored["provider"] == "anthropic"
    assert json.loads(stored["input"])[1] == {"role": "user", "content": "Hi"}
    assert json.loads(stored["output"]) == [{"role": "assistant", "content": "Hello"}]
    assert stored["tags"] == ["a", "b"]
    assert stored["total_tokens"] == 6
    assert not any(k.startswith("llm.input_messages") for k in stored["attributes"])
    reply = json_format.MessageToDict(ExportTraceServiceResponse())
    assert reply == {}
