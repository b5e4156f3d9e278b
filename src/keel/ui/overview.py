"""The overview dashboard: traffic, errors, latency, tokens and cost over a time range, by a chosen group."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from keel.core.clock import utcnow
from keel.tracing import queries
from keel.tracing.schemas import AggregateQuery
from keel.ui.core import UI, UIRoute, current

router = APIRouter(route_class=UIRoute, include_in_schema=False)
RANGES = {
    "1h": (timedelta(hours=1), "5m"),
    "24h": (timedelta(days=1), "1h"),
    "7d": (timedelta(days=7), "6h"),
    "30d": (timedelta(days=30), "1d"),
}
GROUPS = ("model", "route", "prompt_version", "user", "status")


def _label(bucket: Any, width: str) -> str:
    return str(bucket.strftime("%m-%d" if width == "1d" else "%m-%d %H:%M"))


def summarise_groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(
            row["group"] or "—",
            {"group": row["group"] or "—", "count": 0, "errors": 0, "p95_ms": 0.0, "tokens": 0, "cost": 0},
        )
        group["count"] += row["count"]
        group["errors"] += row["errors"]
        group["p95_ms"] = max(group["p95_ms"], row["p95_ms"])
        group["tokens"] += row["total_tokens"]
        group["cost"] += row["cost_usd"]
    return sorted(groups.values(), key=lambda g: -g["count"])


@router.get("/")
def overview(
    ui: Annotated[UI, Depends(current)], range: str = "24h", group_by: str = "model"
) -> HTMLResponse:
    span, width = RANGES.get(range, RANGES["24h"])
    group_by = group_by if group_by in GROUPS else "model"
    since = utcnow() - span
    with ui.session() as session:
        series = queries.aggregates(session, ui.principal, AggregateQuery(since=since, bucket=width))
        by_group = queries.aggregates(
            session, ui.principal, AggregateQuery(since=since, bucket="1d", group_by=group_by)
        )
    labels = [_label(row["bucket_start"], width) for row in series]
    totals = {
        "requests": sum(r["count"] for r in series),
        "errors": sum(r["errors"] for r in series),
        "tokens": sum(r["total_tokens"] for r in series),
        "cost": sum(r["cost_usd"] for r in series),
        "p95": max((r["p95_ms"] for r in series), default=0.0),
    }
    return ui.render(
        "overview.html",
        range=range if range in RANGES else "24h",
        ranges=list(RANGES),
        group_by=group_by,
        groups=GROUPS,
        labels=labels,
        series=series,
        totals=totals,
        by_group=summarise_groups(by_group),
    )
