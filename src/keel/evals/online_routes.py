"""Online evaluation rules under `/api/v1/online-evals`, and `POST .../run` to score pending traces now."""

import time

from fastapi import APIRouter, Response

from keel.evals import queries, scoring
from keel.evals.models import OnlineRule
from keel.evals.schemas import OnlineRuleIn, OnlineRuleOut
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/online-evals", tags=["evaluation"])


def out(rule: OnlineRule) -> OnlineRuleOut:
    return OnlineRuleOut(
        id=rule.id,
        name=rule.name,
        filter=rule.filter,
        sample_rate=rule.sample_rate,
        evaluators=rule.evaluators,
        enabled=rule.enabled,
        evaluated=rule.evaluated,
        created_at=rule.created_at,
    )


@router.post("", status_code=201)
def create(
    body: OnlineRuleIn, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> OnlineRuleOut:
    scoring.check_specs([e.model_dump() for e in body.evaluators], runtime.plugins.evaluators)
    return out(queries.create_rule(session, principal, body, time.time_ns()))


@router.get("")
def list_all(session: SessionDep, principal: PrincipalDep) -> dict[str, list[OnlineRuleOut]]:
    return {"items": [out(r) for r in queries.list_rules(session, principal)]}


@router.get("/{name}")
def get(name: str, session: SessionDep, principal: PrincipalDep) -> OnlineRuleOut:
    return out(queries.get_rule(session, principal, name))


@router.post("/{name}/enable")
def enable(name: str, session: SessionDep, principal: PrincipalDep) -> OnlineRuleOut:
    return out(queries.set_enabled(session, principal, name, True))


@router.post("/{name}/disable")
def disable(name: str, session: SessionDep, principal: PrincipalDep) -> OnlineRuleOut:
    return out(queries.set_enabled(session, principal, name, False))


@router.delete("/{name}", status_code=204)
def delete(name: str, session: SessionDep, principal: PrincipalDep) -> Response:
    queries.delete_rule(session, principal, name)
    return Response(status_code=204)


@router.post("/run")
def run_now(runtime: RuntimeDep, principal: PrincipalDep) -> dict[str, int]:
    """Score what is pending for every enabled rule now, instead of at the next interval (admins)."""
    principal.require_instance_admin("run online evaluation on demand")
    return {"scored": runtime.service("evals.online").run_once()}
