"""`/api/v1/routes/{name}/canary`: a route's canary release, its decisions, and the overrides."""

from fastapi import APIRouter

from keel.gateway import service as gateway
from keel.gateway.canary_schemas import CanaryIn
from keel.loops import canary_service
from keel.loops.schemas import Action, CanaryOut, OverruleIn
from keel.loops.view_service import canary_out
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/routes", tags=["canary"])


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
    data = gateway.route_body(
        route, targets=(route.canary or {}).get("baseline") or route.targets["items"], canary=body
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
