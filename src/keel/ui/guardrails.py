"""Guardrails: the project's policies, the routes that apply them, and a box to try a text against one."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from keel.core.errors import InvalidInput
from keel.gateway import service as gateway
from keel.guardrails import engine
from keel.guardrails import service as guardrails
from keel.ui.core import UI, UIRoute, current

router = APIRouter(route_class=UIRoute, include_in_schema=False)
MAX_TRY_CHARS = 20_000


def _page(ui: UI, tried: dict[str, Any] | None = None) -> HTMLResponse:
    with ui.session() as session:
        policies = guardrails.list_policies(session, ui.principal)
        applied: dict[str, list[str]] = {}
        for route in gateway.list_routes(session, ui.principal):
            if route.guardrails:
                applied.setdefault(route.guardrails, []).append(route.name)
    checks = ui.runtime.plugins.guardrail_checks.items()
    return ui.render("guardrails.html", policies=policies, applied=applied, checks=checks, tried=tried)


@router.get("/guardrails")
def page(ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    return _page(ui)


@router.post("/guardrails/try")
async def try_text(ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    """Run a policy's input and output rules on a text (nothing is stored or sent anywhere)."""
    fields = await ui.form()
    text, name = fields.get("text", ""), fields.get("policy", "")
    if len(text) > MAX_TRY_CHARS:
        raise InvalidInput(f"try at most {MAX_TRY_CHARS} characters here (the API takes more)")
    with ui.session() as session:
        policy = guardrails.get_policy(session, ui.principal, name)
    checks = ui.runtime.plugins.guardrail_checks
    stages = []
    for stage in ("input", "output"):
        rules = policy.rules.get(stage, [])
        outcome = engine.run(text, engine.plan(rules, checks, where=stage, name_field="check"))
        verdicts = [
            (rule["check"], rule["action"], result)
            for rule, result in zip(rules, outcome.results, strict=True)
        ]
        stages.append((stage, verdicts, outcome.redacted))
    return _page(ui, {"policy": name, "text": text, "stages": stages})
