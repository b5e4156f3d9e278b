"""Pre-encoded OTLP protobuf batches of realistic GenAI spans: the load generator spends no CPU encoding."""

import json
import os
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet", "llama-3.1-8b")


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def genai_batches(spans: int, per_batch: int, start_ns: int | None = None) -> list[bytes]:
    """`spans` spans as traces of two (an app span and a chat span under it), `per_batch` spans a request."""
    start = start_ns or time.time_ns()
    bodies = []
    for batch in range(spans // per_batch):
        message = ExportTraceServiceRequest()
        resource = message.resource_spans.add()
        resource.resource.attributes.append(_kv("service.name", "bench-app"))
        scope = resource.scope_spans.add()
        for pair in range(per_batch // 2):
            n = batch * per_batch + pair
            trace_id, root_id = os.urandom(16), os.urandom(8)
            t0 = start + n * 1000
            model = MODELS[n % len(MODELS)]
            scope.spans.append(
                Span(
                    trace_id=trace_id,
                    span_id=root_id,
                    name="handle-request",
                    kind=2,
                    start_time_unix_nano=t0,
                    end_time_unix_nano=t0 + 150_000_000,
                    attributes=[_kv("user.id", f"user-{n % 97}"), _kv("session.id", f"s-{n % 501}")],
                )
            )
            messages = json.dumps([{"role": "user", "content": f"Question {n}: what is the refund policy?"}])
            answer = json.dumps([{"role": "assistant", "content": "Refunds are accepted within 30 days."}])
            scope.spans.append(
                Span(
                    trace_id=trace_id,
                    span_id=os.urandom(8),
                    parent_span_id=root_id,
                    name=f"chat {model}",
                    kind=3,
                    start_time_unix_nano=t0 + 1_000_000,
                    end_time_unix_nano=t0 + 140_000_000,
                    attributes=[
                        _kv("gen_ai.operation.name", "chat"),
                        _kv("gen_ai.provider.name", "openai"),
                        _kv("gen_ai.request.model", model),
                        _kv("gen_ai.response.model", model),
                        _kv("gen_ai.usage.input_tokens", 42 + n % 50),
                        _kv("gen_ai.usage.output_tokens", 9 + n % 20),
                        _kv("gen_ai.input.messages", messages),
                        _kv("gen_ai.output.messages", answer),
                        _kv("keel.cost.usd", "0.000123"),
                    ],
                )
            )
        bodies.append(message.SerializeToString())
    return bodies
