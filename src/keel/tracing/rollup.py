"""Build one trace's rollup row from its spans: the trace list, its filters and aggregates read this row.

The root is the span without a parent; until it arrives the earliest span stands in (and `has_root` says so).
A trace's model, provider, user, session, route and prompt version come from its first span that has them.
"""

from collections.abc import Iterable
from typing import Any

ROLLUP_COLUMNS = (
    "trace_id",
    "parent_span_id",
    "name",
    "service_name",
    "start_ns",
    "end_ns",
    "status",
    "span_type",
    "model",
    "provider",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_micros",
    "user_id",
    "session_id",
    "tags",
    "prompt_version",
    "route",
    "variant",
    "input",
    "output",
)
PREVIEW_CHARS = 2000
FIRST_OF = (
    "model",
    "provider",
    "user_id",
    "session_id",
    "prompt_version",
    "route",
    "variant",
    "service_name",
)


def rollup(project_id: str, spans: Iterable[dict[str, Any]], now_ns: int) -> dict[str, Any]:
    ordered = sorted(spans, key=lambda s: (s["start_ns"], s["parent_span_id"] is not None))
    root = next((s for s in ordered if s["parent_span_id"] is None), ordered[0])
    start = min(s["start_ns"] for s in ordered)
    end = max(s["end_ns"] for s in ordered)
    errors = sum(1 for s in ordered if s["status"] == "error")
    tags = sorted({tag for s in ordered if s["tags"] for tag in s["tags"].strip("|").split("|") if tag})
    row: dict[str, Any] = {
        "project_id": project_id,
        "trace_id": root["trace_id"],
        "name": root["name"],
        "start_ns": start,
        "end_ns": end,
        "duration_ms": (end - start) / 1e6,
        "status": "error" if errors else root["status"],
        "span_count": len(ordered),
        "error_count": errors,
        "llm_calls": sum(1 for s in ordered if s["span_type"] == "llm" or s["prompt_tokens"] is not None),
        "prompt_tokens": sum(s["prompt_tokens"] or 0 for s in ordered),
        "completion_tokens": sum(s["completion_tokens"] or 0 for s in ordered),
        "total_tokens": sum(s["total_tokens"] or 0 for s in ordered),
        "cost_micros": sum(s["cost_micros"] or 0 for s in ordered),
        "tags": "|" + "|".join(tags)[:998] + "|" if tags else None,
        "input": _preview(root["input"] or next((s["input"] for s in ordered if s["input"]), None)),
        "output": _preview(
            root["output"] or next((s["output"] for s in reversed(ordered) if s["output"]), None)
        ),
        "has_root": root["parent_span_id"] is None,
        "updated_ns": now_ns,
    }
    for name in FIRST_OF:
        row[name] = next((s[name] for s in ordered if s[name]), None)
    return row


def _preview(text: str | None) -> str | None:
    if text is None or len(text) <= PREVIEW_CHARS:
        return text
    return text[:PREVIEW_CHARS] + "…"
