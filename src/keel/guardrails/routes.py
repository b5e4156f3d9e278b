"""Guardrails API: `POST /api/v1/guardrails/check` runs checks on a text, `GET /api/v1/guardrails/checks`
lists the registered ones, and `/api/v1/guardrails[/{name}]` manages the policies routes apply."""

from dataclasses import asdict

from fastapi import APIRouter, Response

from keel.core.auth import Role
from keel.guardrails import engine, service
from keel.guardrails.models import GuardrailPolicy
from keel.guardrails.schemas import (
    CheckKind,
    CheckRequest,
    CheckResponse,
    FindingOut,
    PolicyIn,
    PolicyList,
    PolicyOut,
    ResultOut,
)
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/guardrails", tags=["guardrails"])


@router.get("/checks")
def checks(runtime: RuntimeDep, principal: PrincipalDep) -> dict[str, list[CheckKind]]:
    registry = runtime.plugins.guardrail_checks
    return {"items": [CheckKind(name=n, description=c.description) for n, c in registry.items()]}


@router.post("/check")
def check(body: CheckRequest, runtime: RuntimeDep, principal: PrincipalDep) -> CheckResponse:
    """The same checks the gateway's policies run, on any text: flagged, each check's findings, redacted."""
    principal.require(Role.member)
    specs = [spec if isinstance(spec, str) else spec.model_dump() for spec in body.checks]
    outcome = engine.run(body.text, engine.plan(specs, runtime.plugins.guardrail_checks))
    return CheckResponse(
        flagged=outcome.flagged,
        results=[
            ResultOut(
                check=r.check,
                flagged=r.flagged,
                score=r.score,
                findings=[FindingOut(**asdict(f)) for f in r.findings],
            )
            for r in outcome.results
        ],
        redacted=outcome.redacted,
    )


def policy_out(policy: GuardrailPolicy) -> PolicyOut:
    return PolicyOut(
        id=policy.id,
        name=policy.name,
        description=policy.description,
        input=policy.rules.get("input", []),
        output=policy.rules.get("output", []),
        refusal=policy.refusal,
        created_at=policy.created_at,
        updated_at=policy.updated_at,
    )


@router.post("")
def save_policy(
    body: PolicyIn, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> PolicyOut:
    """Create the policy, or replace the one with the same name (routes applying it follow at once)."""
    return policy_out(service.save_policy(session, principal, body, runtime.plugins.guardrail_checks))


@router.get("")
def list_policies(session: SessionDep, principal: PrincipalDep) -> PolicyList:
    return PolicyList(items=[policy_out(p) for p in service.list_policies(session, principal)])


@router.get("/{name}")
def get_policy(name: str, session: SessionDep, principal: PrincipalDep) -> PolicyOut:
    return policy_out(service.get_policy(session, principal, name))


@router.delete("/{name}", status_code=204)
def delete_policy(name: str, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_policy(session, principal, name)
    return Response(status_code=204)
