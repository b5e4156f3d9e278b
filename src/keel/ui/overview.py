"""The overview dashboard: traffic, errors, latency, tokens and cost over a time range, by a chosen group."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from keel.core.clock import utcnow
from keel.monitoring import service as monitoring
from keel.tracing import dashboard_queries
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


@router.get("/")
def overview(
    ui: Annotated[UI, Depends(current)], range: str = "24h", group_by: str = "model"
) -> HTMLResponse:
    span, width = RANGES.get(range, RANGES["24h"])
    group_by = group_by if group_by in GROUPS else "model"
    since = utcnow() - span
    with ui.session() as session:
        query = AggregateQuery(since=since, bucket=width, group_by=group_by)
        series, by_group, whole = dashboard_queries.overview(session, ui.principal, query)
        firing = monitoring.firing(session, ui.principal)
    labels = [_label(row["bucket_start"], width) for row in series]
    totals = whole or {"count": 0, "errors": 0, "error_rate": 0.0, "p50_ms": 0.0, "p95_ms": 0.0}
    totals = {**totals, "total_tokens": totals.get("total_tokens", 0), "cost_usd": totals.get("cost_usd", 0)}
    return ui.render(
        "overview.html",
        range=range if range in RANGES else "24h",
        ranges=list(RANGES),
        group_by=group_by,
        groups=GROUPS,
        labels=labels,
        series=series,
        totals=totals,
        by_group=by_group,
        firing=firing,
    )
