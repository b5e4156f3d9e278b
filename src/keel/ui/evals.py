"""Datasets and experiments: browse items, run an experiment (with live progress), see its results, and
compare experiments per item and in aggregate with the significance verdict."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from keel.datasets import service as datasets
from keel.evals import service as experiments
from keel.evals.schemas import ExperimentCreate
from keel.ui.core import UI, UIRoute, current, invalid, number
from keel.ui.playground import targets

router = APIRouter(route_class=UIRoute, include_in_schema=False)
DEFAULT_EVALUATORS = ("exact_match", "contains", "rouge")


@router.get("/datasets")
def dataset_list(ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    with ui.session() as session:
        rows = [
            (d, datasets.count(session, d.id, d.latest_version))
            for d in datasets.list_datasets(session, ui.principal, None, 200).items
        ]
    return ui.render("datasets.html", rows=rows)


@router.get("/datasets/{name}")
async def dataset_view(
    name: str, ui: Annotated[UI, Depends(current)], cursor: str | None = None
) -> HTMLResponse:
    with ui.session() as session:
        dataset = datasets.get(session, ui.principal, name)
        page = datasets.page_items(session, dataset, dataset.latest_version, None, cursor, 50)
        splits = sorted(
            {i.split for i in datasets.items(session, dataset, dataset.latest_version) if i.split}
        )
    evaluators = sorted(ui.runtime.plugins.evaluators)
    return ui.render(
        "dataset.html",
        dataset=dataset,
        items=page.items,
        cursor=page.next_cursor,
        splits=splits,
        evaluators=evaluators,
        default_evaluators=DEFAULT_EVALUATORS,
        options=await targets(ui),
    )


@router.post("/datasets/{name}/experiments")
async def run_experiment(
    name: str, request: Request, ui: Annotated[UI, Depends(current)]
) -> RedirectResponse:
    fields = await ui.form()
    body = (await request.body()).decode()
    chosen = [part.split("=", 1)[1] for part in body.split("&") if part.startswith("evaluator=")]
    target = fields.get("target", "")
    task: dict[str, Any] = (
        {"type": "prompt", "prompt": target[7:]}
        if target.startswith("prompt:")
        else {"type": "model", "model": target}
    )
    task["params"] = {
        "temperature": 0,
        "max_tokens": number({"max_tokens": "128", **fields}, "max_tokens", int),
    }
    try:
        data = ExperimentCreate(
            name=fields.get("name", ""),
            dataset=name,
            split=fields.get("split") or None,
            task=task,
            evaluators=chosen,
            concurrency=number({"concurrency": "4", **fields}, "concurrency", int),
        )
    except ValidationError as exc:
        raise invalid(exc) from None
    with ui.session() as session:
        experiment = experiments.launch(session, ui.principal, data, ui.runtime.plugins.evaluators)
    return RedirectResponse(f"/experiments/{experiment.id}", status_code=303)


@router.get("/experiments")
def experiment_list(ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    with ui.session() as session:
        page = experiments.list_experiments(session, ui.principal, None, None, 100)
        rows = [
            (e, experiments.dataset_name(session, e), experiments.counts(session, e.id)) for e in page.items
        ]
    return ui.render("experiments.html", rows=rows)


def _experiment(ui: UI, experiment_id: str) -> dict[str, Any]:
    with ui.session() as session:
        experiment = experiments.get(session, ui.principal, experiment_id)
        done, failed = experiments.counts(session, experiment.id)
        results = experiments.page_results(session, experiment, None, 100).items
        return {
            "experiment": experiment,
            "dataset": experiments.dataset_name(session, experiment),
            "done": done,
            "failed": failed,
            "results": results,
            "summary": experiment.summary or {},
            "bars": [
                (m, s["mean"]) for m, s in (experiment.summary or {}).items() if s.get("mean") is not None
            ],
        }


@router.get("/experiments/compare")
def compare(ui: Annotated[UI, Depends(current)], ids: str = "") -> HTMLResponse:
    chosen = [i for i in ids.replace(" ", ",").split(",") if i]
    with ui.session() as session:
        comparison = experiments.compare(session, ui.principal, chosen)
        names = {i: experiments.get(session, ui.principal, i).name for i in chosen}
    return ui.render("compare.html", comparison=comparison, names=names, ids=chosen)


@router.get("/experiments/{experiment_id}")
def experiment_view(experiment_id: str, ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    return ui.render("experiment.html", **_experiment(ui, experiment_id))


@router.get("/experiments/{experiment_id}/progress")
def progress(experiment_id: str, ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    context = _experiment(ui, experiment_id)
    response = ui.render("experiment_progress.html", **context)
    if context["experiment"].status not in ("queued", "running"):
        response.headers["X-Keel-Done"] = "1"
    return response
