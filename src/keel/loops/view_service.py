"""A route's canary as the API and the UI show it: state, the judge's live reading, the decisions."""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from keel.core.auth import Principal
from keel.core.errors import NotFound
from keel.gateway import canary_service as canary
from keel.gateway import service as gateway
from keel.loops import canary_service
from keel.loops.schemas import CanaryOut, DecisionOut


def _at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


def canary_out(session: Session, principal: Principal, name: str) -> CanaryOut:
    route = gateway.get_route(session, principal, name)
    state = route.canary
    if state is None:
        raise NotFound(f"route {name!r} has no canary release")
    live = None
    if state["state"] in ("running", "paused"):
        found = canary_service.look(session, route)
        live = {
            "verdict": found.judgement.verdict,
            "score": found.judgement.score,
            "reason": found.judgement.reason,
            "metrics": found.judgement.as_json(),
            "calls": {arm: s.calls for arm, s in found.samples.items()},
            "elapsed_s": round(found.elapsed_s, 3),
        }
    decisions = canary_service.decisions(session, route.project_id, route.name, state["id"])
    return CanaryOut(
        route=route.name,
        id=state["id"],
        state=state["state"],
        step=state["step"],
        weight=state["weight"],
        steps=state["spec"]["steps"],
        target=state["spec"]["target"],
        baseline=state["baseline"],
        reason=state["reason"],
        started_at=_at(state["started_ns"]),
        step_started_at=_at(state["step_started_ns"]),
        spec=canary.masked(route) or {},
        live=live,
        decisions=[DecisionOut.model_validate(d, from_attributes=True) for d in decisions],
    )
