"""ORM rows to response bodies: nanoseconds to datetimes, micro-dollars to Decimal, spans into a tree."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from keel.core.money import to_usd
from keel.tracing.models import Span, Trace
from keel.tracing.schemas import SpanOut, TraceDetail, TraceOut


def ns_to_datetime(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1000 / 1_000_000, UTC)


def usd(micros: int | None) -> Decimal | None:
    return None if micros is None else to_usd(micros)


def tag_list(tags: str | None) -> list[str]:
    return [tag for tag in (tags or "").strip("|").split("|") if tag]


def _trace_fields(trace: Trace) -> dict[str, Any]:
    fields = {name: getattr(trace, name) for name in TraceOut.model_fields if hasattr(trace, name)}
    fields.update(
        start_time=ns_to_datetime(trace.start_ns),
        end_time=ns_to_datetime(trace.end_ns),
        cost_usd=usd(trace.cost_micros),
        tags=tag_list(trace.tags),
    )
    return fields


def trace_out(trace: Trace) -> TraceOut:
    return TraceOut(**_trace_fields(trace))


def span_out(span: Span) -> SpanOut:
    fields = {name: getattr(span, name) for name in SpanOut.model_fields if hasattr(span, name)}
    fields.update(
        start_time=ns_to_datetime(span.start_ns),
        end_time=ns_to_datetime(span.end_ns),
        cost_usd=usd(span.cost_micros),
        tags=tag_list(span.tags),
        events=(span.events or {}).get("items", []),
        children=[],
    )
    return SpanOut(**fields)


def trace_detail(trace: Trace, spans: list[Span]) -> TraceDetail:
    nodes = {span.span_id: span_out(span) for span in spans}
    roots: list[SpanOut] = []
    for span in spans:
        parent = nodes.get(span.parent_span_id or "")
        (parent.children if parent is not None else roots).append(nodes[span.span_id])
    return TraceDetail(**_trace_fields(trace), spans=roots)
