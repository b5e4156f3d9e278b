"""Monitoring: the project's alert rules with their state and last reading, and the alert history."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from keel.monitoring import service as monitoring
from keel.ui.core import UI, UIRoute, current

router = APIRouter(route_class=UIRoute, include_in_schema=False)


@router.get("/monitoring")
def page(ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    with ui.session() as session:
        rules = [monitoring.rule_out(r) for r in monitoring.list_rules(session, ui.principal)]
        events = monitoring.history(session, ui.principal, None, None, 50)
    return ui.render("monitoring.html", rules=rules, events=events)
