"""Fine-tune runs (live loss curves) and the model registry (versions, lineage, evaluations, aliases)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse

from keel.core.errors import InvalidInput
from keel.finetune import runs_service as runs
from keel.finetune import service as registry
from keel.ui.core import UI, UIRoute, current, number

router = APIRouter(route_class=UIRoute, include_in_schema=False)


@router.get("/finetunes")
def run_list(ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    with ui.session() as session:
        rows = [(r, runs.job_of(session, r)) for r in runs.list_runs(session, ui.principal, None, 100).items]
    return ui.render("finetunes.html", rows=rows)


def _run(ui: UI, run_id: str) -> dict[str, Any]:
    with ui.session() as session:
        run = runs.get_run(session, ui.principal, run_id)
        job = runs.job_of(session, run)
        metrics = runs.metrics(session, ui.principal, run_id)
        version = runs.version_of(session, run)
    train = [m for m in metrics if m.kind == "train"]
    evals = {m.step: m.values.get("eval_loss") for m in metrics if m.kind == "eval"}
    steps = sorted({m.step for m in train} | set(evals))
    by_step = {m.step: m.values for m in train}
    curve = {
        "train loss": [_float(by_step.get(s, {}).get("loss")) for s in steps],
        "eval loss": [_float(evals.get(s)) for s in steps],
    }
    return {
        "run": run,
        "job": job,
        "steps": [str(s) for s in steps],
        "curve": curve,
        "last": train[-1] if train else None,
        "version": version,
    }


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@router.get("/finetunes/{run_id}")
def run_view(run_id: str, ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    return ui.render("finetune.html", **_run(ui, run_id))


@router.get("/finetunes/{run_id}/live")
def run_live(run_id: str, ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    context = _run(ui, run_id)
    response = ui.render("finetune_live.html", **context)
    if context["job"] is None or context["job"].status not in ("queued", "running"):
        response.headers["X-Keel-Done"] = "1"
    return response


@router.get("/models")
def model_list(ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    with ui.session() as session:
        rows = [
            (m, registry.aliases(session, m.id))
            for m in registry.list_models(session, ui.principal, None, 200).items
        ]
    return ui.render("models.html", rows=rows)


@router.get("/models/{name}")
def model_view(name: str, ui: Annotated[UI, Depends(current)], notice: str = "") -> HTMLResponse:
    with ui.session() as session:
        model = registry.get_model(session, ui.principal, name)
        versions = list(reversed(registry.versions(session, ui.principal, name)))
        aliases = registry.aliases(session, model.id)
    return ui.render("model.html", model=model, versions=versions, aliases=aliases, notice=notice)


@router.post("/models/{name}/aliases")
async def move_alias(name: str, ui: Annotated[UI, Depends(current)]) -> RedirectResponse:
    fields = await ui.form()
    alias = fields.get("alias", "").strip()
    if not alias:
        raise InvalidInput("give the alias to move")
    version = number(fields, "version", int)
    with ui.session() as session:
        registry.set_alias(session, ui.principal, name, alias, version)
    return RedirectResponse(f"/models/{name}?notice=Moved+{alias}+to+v{version}", status_code=303)
