"""Build OTLP ExportTraceServiceRequest messages for tests and benchmarks."""

import os
import time
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list | tuple):
        return AnyValue(array_value=ArrayValue(values=[any_value(v) for v in value]))
    return AnyValue(string_value=str(value))


def span(
    name: str = "step",
    *,
    trace_id: bytes | None = None,
    span_id: bytes | None = None,
    parent: bytes | None = None,
    start_ns: int | None = None,
    duration_ms: float = 5.0,
    attributes: dict[str, Any] | None = None,
    error: str | None = None,
    kind: int = 1,
) -> Span:
    start = start_ns or time.time_ns()
    message = Span(
        trace_id=trace_id or os.urandom(16),
        span_id=span_id or os.urandom(8),
        parent_span_id=parent or b"",
        name=name,
        kind=kind,
        start_time_unix_nano=start,
        end_time_unix_nano=start + int(duration_ms * 1e6),
        attributes=[KeyValue(key=k, value=any_value(v)) for k, v in (attributes or {}).items()],
    )
    if error:
        message.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message=error))
    return message


def request(*spans: Span, service: str = "test-app") -> ExportTraceServiceRequest:
    message = ExportTraceServiceRequest()
    resource_spans = message.resource_spans.add()
    resource_spans.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    resource_spans.scope_spans.add().spans.extend(spans)
    return message


def llm_trace(
    model: str = "gpt-4o-mini",
    *,
    prompt: str = "What is 2+2?",
    answer: str = "4",
    tokens: tuple[int, int] = (12, 3),
    cost: str = "0.00042",
    user: str = "u1",
    session: str = "s1",
    tags: tuple[str, ...] = ("prod",),
    start_ns: int | None = None,
    error: str | None = None,
    duration_ms: float = 120.0,
) -> list[Span]:
    """A two-span trace: an app step with one GenAI chat span under it."""
    trace_id, root_id = os.urandom(16), os.urandom(8)
    start = start_ns or time.time_ns()
    root = span(
        "answer-question",
        trace_id=trace_id,
        span_id=root_id,
        start_ns=start,
        duration_ms=duration_ms + 10,
        attributes={"session.id": session, "user.id": user, "keel.tags": list(tags)},
    )
    chat = span(
        f"chat {model}",
        trace_id=trace_id,
        parent=root_id,
        start_ns=start + 1_000_000,
        duration_ms=duration_ms,
        kind=3,
        error=error,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
            "gen_ai.response.model": model,
            "gen_ai.usage.input_tokens": tokens[0],
            "gen_ai.usage.output_tokens": tokens[1],
            "gen_ai.input.messages": f'[{{"role": "user", "content": "{prompt}"}}]',
            "gen_ai.output.messages": f'[{{"role": "assistant", "content": "{answer}"}}]',
            "keel.cost.usd": cost,
        },
    )
    return [root, chat]
