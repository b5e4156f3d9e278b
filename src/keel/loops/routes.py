"""`/api/v1/routes/{name}/canary`: a route's canary release, its decisions, and the overrides."""

from datetime import UTC, datetime

from fastapi import APIRouter

from keel.core.errors import NotFound
from keel.gateway import canary_service as canary
from keel.gateway import service as gateway
from keel.gateway.canary_schemas import CanaryIn
from keel.gateway.schemas import RouteCreate
from keel.loops import canary_service
from keel.loops.schemas import Action, CanaryOut, DecisionOut, OverruleIn
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/routes", tags=["canary"])


def _at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


def canary_out(session: SessionDep, principal: PrincipalDep, name: str) -> CanaryOut:
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


@router.get("/{name}/canary")
def get_canary(name: str, session: SessionDep, principal: PrincipalDep) -> CanaryOut:
    """The release: where it is, the judge's live reading of this step, and every decision so far."""
    return canary_out(session, principal, name)


@router.put("/{name}/canary")
def put_canary(
    name: str, body: CanaryIn, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CanaryOut:
    """Start a canary on an existing route (the same as saving the route with `canary`); the same spec
    again changes nothing."""
    route = gateway.get_route(session, principal, name)
    data = RouteCreate.model_validate(
        {
            "name": route.name,
            "targets": (route.canary or {}).get("baseline") or route.targets["items"],
            "fallbacks": route.fallbacks["items"],
            "sticky": route.sticky,
            "retries": route.retries,
            "cache_ttl_s": route.cache_ttl_s,
            "circuit": route.circuit,
            "guardrails": route.guardrails,
            "canary": body,
        }
    )
    gateway.save_route(session, principal, data, runtime.secrets)
    return canary_out(session, principal, name)


@router.post("/{name}/canary/{action}")
def overrule(
    name: str,
    action: Action,
    session: SessionDep,
    principal: PrincipalDep,
    body: OverruleIn | None = None,
) -> CanaryOut:
    """A person overrules the judge: `pause`, `resume`, `rollback` (also after a promotion: the old targets
    and champion come back) or `promote` now."""
    canary_service.overrule(session, principal, name, action, body.reason if body else None)
    session.commit()
    return canary_out(session, principal, name)
