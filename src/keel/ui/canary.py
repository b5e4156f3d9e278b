"""A route's canary release: where it is in its steps, what the judge sees in this step, every decision as a
timeline with the metrics charted across them, and the overrides (pause, resume, roll back, promote)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from keel.core.auth import Role
from keel.gateway import service as gateway
from keel.gateway.canary_schemas import CanaryIn
from keel.loops import canary_service
from keel.loops.schemas import CanaryOut
from keel.loops.view_service import canary_out
from keel.ui.core import UI, UIRoute, current, invalid, number

router = APIRouter(route_class=UIRoute, include_in_schema=False)
ACTIONS = ("pause", "resume", "rollback", "promote")


def metric_series(release: CanaryOut) -> dict[str, tuple[list[str], dict[str, list[float | None]]]]:
    """Per metric, each arm's value at every judged decision (oldest first), for a line chart."""
    judged = [d for d in reversed(release.decisions) if d.metrics]
    charts: dict[str, tuple[list[str], dict[str, list[float | None]]]] = {}
    for name in dict.fromkeys(m["name"] for d in judged for m in d.metrics):
        labels, baseline, candidate = [], [], []
        for decision in judged:
            found: dict[str, Any] = next((m for m in decision.metrics if m["name"] == name), {})
            labels.append(f"{decision.at:%H:%M:%S} · {decision.weight}%")
            baseline.append(found.get("baseline"))
            candidate.append(found.get("canary"))
        charts[name] = (labels, {"baseline": baseline, "candidate": candidate})
    return charts


@router.get("/gateway/routes/{name}/canary")
def page(name: str, ui: Annotated[UI, Depends(current)], notice: str = "") -> HTMLResponse:
    with ui.session() as session:
        release = canary_out(session, ui.principal, name)
    return ui.render(
        "canary.html", release=release, charts=metric_series(release), actions=ACTIONS, notice=notice
    )


@router.post("/gateway/routes/{name}/canary")
async def start(name: str, ui: Annotated[UI, Depends(current)]) -> RedirectResponse:
    """Start a canary from the gateway page's form: a candidate, its steps, interval and minimum calls."""
    fields = await ui.form()
    provider, _, model = fields.get("candidate", "").strip().partition("/")
    steps = [s.strip() for s in fields.get("steps", "").split(",") if s.strip()]
    with ui.session() as session:
        route = gateway.get_route(session, ui.principal, name)
        try:
            release = CanaryIn(
                target={"provider": provider, "model": model},
                steps=[int(number({"steps": s}, "steps")) for s in steps] or [5, 25, 50, 100],
                interval=fields.get("interval", "").strip() or "2m",
                min_calls=int(number(fields, "min_calls") if fields.get("min_calls") else 200),
            )
            data = gateway.route_body(route, canary=release)
        except ValidationError as exc:
            raise invalid(exc) from None
        gateway.save_route(session, ui.principal, data, ui.runtime.secrets)
    return RedirectResponse(f"/gateway/routes/{name}/canary?notice=Canary+started", status_code=303)


@router.post("/gateway/routes/{name}/canary/{action}")
async def overrule(name: str, action: str, ui: Annotated[UI, Depends(current)]) -> RedirectResponse:
    fields = await ui.form()
    ui.principal.require(Role.admin)
    if action not in ACTIONS:
        return RedirectResponse(f"/gateway/routes/{name}/canary?notice=Unknown+action", status_code=303)
    with ui.session() as session:
        canary_service.overrule(session, ui.principal, name, action, fields.get("reason") or None)
        session.commit()
    return RedirectResponse(f"/gateway/routes/{name}/canary?notice=Canary+{action}+done", status_code=303)
