"""OTLP/HTTP trace decoding: protobuf or JSON bodies (optionally gzip) to span rows.

Unreadable bodies raise `InvalidInput` (400). Within a readable body each span stands alone: a span with an
invalid id is rejected and counted (OTLP partial success) while the rest are stored; oversized values are cut
with a marker; an end before its start (clock skew) is clamped and flagged.
"""

import base64
import json
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from keel.core.errors import InvalidInput, PayloadTooLarge
from keel.tracing.semconv import clip, is_content_key, llm_fields

KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUSES = ("unset", "ok", "error")
MAX_ATTRIBUTES = 512
PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf", "application/octet-stream")


@dataclass
class Decoded:
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


def parse_body(
    body: bytes, content_type: str, encoding: str | None, max_bytes: int
) -> ExportTraceServiceRequest:
    body = _decompress(body, (encoding or "").lower().strip(), max_bytes)
    media = content_type.split(";")[0].strip().lower()
    request = ExportTraceServiceRequest()
    if media in PROTOBUF_TYPES:
        try:
            request.ParseFromString(body)
        except DecodeError as exc:
            raise InvalidInput(f"body is not an OTLP ExportTraceServiceRequest protobuf: {exc}") from None
        return request
    if media == "application/json":
        try:
            data = json.loads(body)
            json_format.ParseDict(_hex_ids_to_base64(data), request, ignore_unknown_fields=True)
        except (ValueError, json_format.ParseError, TypeError, AttributeError) as exc:
            raise InvalidInput(f"body is not OTLP/JSON: {exc}") from None
        return request
    raise InvalidInput(
        f"unsupported Content-Type {media or '(none)'!r}: send application/x-protobuf or application/json"
    )


def to_rows(request: ExportTraceServiceRequest, project_id: str, max_bytes: int) -> Decoded:
    decoded = Decoded()
    now = time.time_ns()
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes, max_bytes)
        service = resource.get("service.name")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                try:
                    decoded.rows.append(_row(span, project_id, resource, service, max_bytes, now))
                except ValueError as exc:
                    decoded.rejected += 1
                    if len(decoded.errors) < 5:
                        decoded.errors.append(str(exc))
    return decoded


def _row(
    span: Any, project_id: str, resource: dict[str, Any], service: Any, max_bytes: int, now: int
) -> dict[str, Any]:
    trace_id, span_id = span.trace_id, span.span_id
    if len(trace_id) != 16 or not any(trace_id):
        raise ValueError(f"span {span.name!r}: trace_id must be 16 non-zero bytes")
    if len(span_id) != 8 or not any(span_id):
        raise ValueError(f"span {span.name!r}: span_id must be 8 non-zero bytes")
    if not span.start_time_unix_nano:
        raise ValueError(f"span {span.name!r}: start_time_unix_nano is missing")
    attrs = _attributes(span.attributes, max_bytes)
    events = [
        {"name": e.name, "time_ns": e.time_unix_nano, "attributes": _attributes(e.attributes, max_bytes)}
        for e in span.events
    ]
    for event in events:
        if event["name"].startswith("gen_ai.content."):
            for key, value in event["attributes"].items():
                attrs.setdefault(key, value)
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    if end < start:
        attrs["keel.warning"] = f"end_time before start_time by {start - end} ns; clamped"
        end = start
    status = STATUSES[span.status.code] if span.status.code < len(STATUSES) else "unset"
    message = span.status.message or _exception_message(events) if status == "error" else span.status.message
    parent = span.parent_span_id.hex() if len(span.parent_span_id) == 8 and any(span.parent_span_id) else None
    row = {
        "project_id": project_id,
        "trace_id": trace_id.hex(),
        "span_id": span_id.hex(),
        "parent_span_id": parent,
        "name": span.name[:500] or "(unnamed)",
        "kind": KINDS[span.kind] if span.kind < len(KINDS) else "unspecified",
        "start_ns": start,
        "end_ns": end,
        "duration_ms": (end - start) / 1e6,
        "status": status,
        "status_message": clip(message or None, max_bytes),
        "service_name": str(service)[:200] if service else None,
        "attributes": {k: v for k, v in attrs.items() if not is_content_key(k)},
        "events": {"items": events} if events else None,
        "resource": resource or None,
        "ingested_ns": now,
    }
    row.update(llm_fields(attrs, max_bytes))
    return row


def _exception_message(events: list[dict[str, Any]]) -> str | None:
    for event in events:
        if event["name"] == "exception":
            attrs = event["attributes"]
            return f"{attrs.get('exception.type', 'Exception')}: {attrs.get('exception.message', '')}"
    return None


def _attributes(pairs: Any, max_bytes: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs[:MAX_ATTRIBUTES]:
        value = _value(pair.value, max_bytes)
        out[pair.key[:256]] = value
    if len(pairs) > MAX_ATTRIBUTES:
        out["keel.dropped_attributes"] = len(pairs) - MAX_ATTRIBUTES
    return out


def _value(value: AnyValue, max_bytes: int) -> Any:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return clip(value.string_value, max_bytes)
    if kind in ("int_value", "bool_value", "double_value"):
        return getattr(value, kind)
    if kind == "array_value":
        return [_value(item, max_bytes) for item in value.array_value.values[:MAX_ATTRIBUTES]]
    if kind == "kvlist_value":
        pairs: list[KeyValue] = list(value.kvlist_value.values)
        return _attributes(pairs, max_bytes)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value[:max_bytes]).decode()
    return None


def _decompress(body: bytes, encoding: str, max_bytes: int) -> bytes:
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise InvalidInput(f"unsupported Content-Encoding {encoding!r}: send gzip, deflate or none")
    inflater = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise InvalidInput(f"body is not valid {encoding}: {exc}") from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise PayloadTooLarge(
            f"decompressed body exceeds the {max_bytes}-byte limit (KEEL_MAX_REQUEST_BYTES)"
        )
    return out


def _hex_ids_to_base64(data: Any) -> Any:
    """OTLP/JSON writes ids as hex; protobuf's JSON mapping expects base64 for bytes fields."""
    for resource_spans in data.get("resourceSpans", []) or []:
        for scope_spans in resource_spans.get("scopeSpans", []) or []:
            for span in scope_spans.get("spans", []) or []:
                _convert_ids(span)
                for link in span.get("links", []) or []:
                    _convert_ids(link)
    return data


def _convert_ids(obj: dict[str, Any]) -> None:
    for key in ("traceId", "spanId", "parentSpanId"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            try:
                obj[key] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError:
                obj[key] = base64.b64encode(b"\x00").decode()  # rejected per span, not per request
