"""Monitoring: the alert rules with their state and last reading, the alert history, and a drift report
(distribution overlays per feature, the topics of inputs and outputs that grew or shrank, with examples)."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from keel.core.errors import InvalidInput
from keel.monitoring import drift_service
from keel.monitoring import service as monitoring
from keel.monitoring.embedding import embedder
from keel.monitoring.schemas import DriftReport, DriftRequest
from keel.ui.core import UI, UIRoute, current, invalid

router = APIRouter(route_class=UIRoute, include_in_schema=False)


@router.get("/monitoring")
def page(
    ui: Annotated[UI, Depends(current)],
    route: str = "",
    hours: float = 0,
    dataset: str = "",
) -> HTMLResponse:
    """Alert rules and history; with `hours`, a drift report of the last `hours` against the `hours` before
    them (or against `dataset`), feature by feature, with overlays and the topics that moved."""
    report, asked = None, {"route": route, "hours": hours or "", "dataset": dataset}
    with ui.session() as session:
        rules = [monitoring.rule_out(r) for r in monitoring.list_rules(session, ui.principal)]
        events = monitoring.history(session, ui.principal, None, None, 50)
        if hours:
            report = _drift(session, ui, route, hours, dataset)
    return ui.render("monitoring.html", rules=rules, events=events, report=report, asked=asked)


def _drift(session: Any, ui: UI, route: str, hours: float, dataset: str) -> DriftReport:
    if not 0 < hours <= 24 * 90:
        raise InvalidInput("hours must be between 0 and 2160", param="hours")
    now = datetime.now(UTC)
    width = timedelta(hours=hours)
    current = {"from": now - width, "to": now}
    try:
        body = DriftRequest.model_validate(
            {
                "filters": {"route": route} if route else {},
                "reference": {"dataset": dataset}
                if dataset
                else {"from": now - 2 * width, "to": now - width},
                "current": current,
            }
        )
    except ValidationError as exc:
        raise invalid(exc) from None
    return drift_service.report(session, ui.principal, body, embedder(ui.runtime))
