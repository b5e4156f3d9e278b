"""Experiments API under `/api/v1/experiments` and the evaluator list under `/api/v1/evaluators`."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from keel.core.auth import Principal, Role
from keel.core.errors import Conflict, InvalidInput
from keel.datasets.models import DatasetItem
from keel.evals import service
from keel.evals.models import Experiment, ExperimentResult
from keel.evals.schemas import (
    Comparison,
    EvaluatorOut,
    ExperimentCreate,
    ExperimentList,
    ExperimentOut,
    PendingItem,
    ResultList,
    ResultOut,
    ResultsIn,
)
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/experiments", tags=["evaluation"])
evaluator_router = APIRouter(prefix="/api/v1/evaluators", tags=["evaluation"])
PageLimit = Annotated[int, Query(ge=1, le=200)]
FINAL = ("succeeded", "failed", "cancelled")


@evaluator_router.get("")
def list_evaluators(runtime: RuntimeDep, principal: PrincipalDep) -> dict[str, list[EvaluatorOut]]:
    return {
        "items": [
            EvaluatorOut(
                name=e.name,
                description=e.description,
                metrics=list(e.metrics),
                needs_expected=e.needs_expected,
                params=e.params,
            )
            for _, e in runtime.plugins.evaluators.items()
        ]
    }


def out(session: SessionDep, experiment: Experiment) -> ExperimentOut:
    done, failed = service.counts(session, experiment.id)
    summary = experiment.summary if experiment.status in FINAL else service.summarize(session, experiment)
    return ExperimentOut(
        id=experiment.id,
        name=experiment.name,
        dataset=service.dataset_name(session, experiment),
        dataset_version=experiment.dataset_version,
        split=experiment.split,
        task=experiment.task,
        evaluators=experiment.evaluators,
        concurrency=experiment.concurrency,
        status=experiment.status,
        job_id=experiment.job_id,
        total=experiment.total,
        done=done,
        failed=failed,
        summary=summary or {},
        error=experiment.error,
        created_at=experiment.created_at,
        finished_at=experiment.finished_at,
    )


def result_out(result: ExperimentResult) -> ResultOut:
    return ResultOut(
        item_key=result.item_key,
        input=result.input,
        expected=result.expected,
        output=result.output,
        error=result.error,
        scores=result.scores,
        score_errors=result.score_errors,
        reasons=result.reasons,
        trace_id=result.trace_id,
        latency_ms=result.latency_ms,
    )


@router.post("", status_code=201)
def create(
    body: ExperimentCreate, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> ExperimentOut:
    return out(session, service.launch(session, principal, body, runtime.plugins.evaluators))


@router.get("")
def list_all(
    session: SessionDep,
    principal: PrincipalDep,
    dataset: str | None = None,
    cursor: str | None = None,
    limit: PageLimit = 50,
) -> ExperimentList:
    page = service.list_experiments(session, principal, dataset, cursor, limit)
    return ExperimentList(items=[out(session, e) for e in page.items], next_cursor=page.next_cursor)


@router.get("/compare")
def compare(
    ids: Annotated[list[str], Query(description="Baseline first, then the experiments to compare with it")],
    session: SessionDep,
    principal: PrincipalDep,
) -> Comparison:
    return Comparison(**service.compare(session, principal, ids))


@router.get("/{experiment_id}")
def get(experiment_id: str, session: SessionDep, principal: PrincipalDep) -> ExperimentOut:
    return out(session, service.get(session, principal, experiment_id))


@router.get("/{experiment_id}/results")
def results(
    experiment_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    cursor: str | None = None,
    limit: PageLimit = 100,
) -> ResultList:
    page = service.page_results(session, service.get(session, principal, experiment_id), cursor, limit)
    return ResultList(items=[result_out(r) for r in page.items], next_cursor=page.next_cursor)


def _client_run(session: SessionDep, principal: Principal, experiment_id: str) -> Experiment:
    principal.require(Role.member)
    experiment = service.get(session, principal, experiment_id)
    if experiment.task.get("type") != "client":
        raise InvalidInput("only experiments with a `client` task take results from the caller")
    if experiment.status in FINAL:
        raise Conflict(f"experiment {experiment_id} is {experiment.status}")
    return experiment


def _pending_out(item: DatasetItem) -> PendingItem:
    return PendingItem(
        item_key=item.item_key, input=item.input, expected=item.expected, metadata=item.item_metadata
    )


@router.get("/{experiment_id}/pending")
def pending(experiment_id: str, session: SessionDep, principal: PrincipalDep) -> dict[str, list[PendingItem]]:
    experiment = _client_run(session, principal, experiment_id)
    return {"items": [_pending_out(i) for i in service.pending(session, experiment)]}


@router.post("/{experiment_id}/results")
def submit_results(
    experiment_id: str, body: ResultsIn, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Outputs of the caller's own task for some items; the server scores and stores them."""
    experiment = _client_run(session, principal, experiment_id)
    items = {i.item_key: i for i in service.pending(session, experiment)}
    unknown = [r.item_key for r in body.results if r.item_key not in items]
    if unknown:
        raise InvalidInput(
            f"not pending items of this experiment (unknown or already scored): {', '.join(unknown[:10])}",
            param="results",
        )
    rows = [
        {
            "item_key": r.item_key,
            "input": items[r.item_key].input,
            "expected": items[r.item_key].expected,
            "metadata": items[r.item_key].item_metadata,
            "output": r.output,
            "error": r.error,
            "latency_ms": r.latency_ms,
            "trace_id": r.trace_id,
        }
        for r in body.results
    ]
    scored = runtime.service("evals").score_rows(principal, experiment, rows)
    return {"stored": service.store(session, experiment, scored)}


@router.post("/{experiment_id}/finish")
def finish(experiment_id: str, session: SessionDep, principal: PrincipalDep) -> ExperimentOut:
    experiment = _client_run(session, principal, experiment_id)
    return out(session, service.finish(session, experiment, "succeeded"))
