"""The in-process fast path for Keel's own spans (the gateway's): rows built directly, no OTLP round trip.

Callers describe a span with the same `gen_ai.*`/`keel.*` attributes an external exporter would send, so the
stored row is identical to one that came through `/v1/traces`; then they hand it to the trace writer.
"""

import os
import time
from dataclasses import dataclass, field
from typing import Any

from keel.tracing.semconv import clip, is_content_key, llm_fields


@dataclass
class InternalSpan:
    project_id: str
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)
    trace_id: str = field(default_factory=lambda: os.urandom(16).hex())
    span_id: str = field(default_factory=lambda: os.urandom(8).hex())
    parent_span_id: str | None = None
    kind: str = "server"
    error: str | None = None
    service_name: str = "keel-gateway"
    new_trace: bool = True  # set False when joining a trace that may already have spans stored


def internal_row(span: InternalSpan, max_bytes: int) -> dict[str, Any]:
    end = max(span.end_ns, span.start_ns)
    row: dict[str, Any] = {
        "project_id": span.project_id,
        "trace_id": span.trace_id,
        "fresh_trace": span.new_trace,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "name": span.name[:500],
        "kind": span.kind,
        "start_ns": span.start_ns,
        "end_ns": end,
        "duration_ms": (end - span.start_ns) / 1e6,
        "status": "error" if span.error else "ok",
        "status_message": clip(span.error, max_bytes),
        "service_name": span.service_name,
        "attributes": {k: v for k, v in span.attributes.items() if not is_content_key(k)},
        "events": None,
        "resource": {"service.name": span.service_name},
        "ingested_ns": time.time_ns(),
    }
    row.update(llm_fields(span.attributes, max_bytes))
    return row
