"""Guardrails API: `POST /api/v1/guardrails/check` runs checks on a text, `GET /api/v1/guardrails/checks`
lists the registered ones."""

from dataclasses import asdict

from fastapi import APIRouter

from keel.core.auth import Role
from keel.guardrails import engine
from keel.guardrails.schemas import CheckKind, CheckRequest, CheckResponse, FindingOut, ResultOut
from keel.server.deps import PrincipalDep, RuntimeDep

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
