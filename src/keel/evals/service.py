"""Experiments: create, store results idempotently, summarise, list, compare on one dataset version."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.clock import utcnow
from keel.core.errors import InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.pagination import Page, check_limit, decode_cursor, page_of
from keel.datasets import service as datasets
from keel.datasets.models import Dataset, DatasetItem
from keel.evals import scoring, stats
from keel.evals.evaluators.text_overlap import corpus_bleu
from keel.evals.models import Experiment, ExperimentResult
from keel.evals.schemas import ExperimentCreate
from keel.jobs import service as jobs

MAX_COMPARED_ITEMS = 500


def create(session: Session, principal: Principal, data: ExperimentCreate) -> Experiment:
    principal.require(Role.member)
    dataset = datasets.get(session, principal, data.dataset)
    version = datasets.check_version(dataset, data.version)
    total = len(datasets.items(session, dataset, version, data.split))
    if total == 0:
        where = f" split {data.split!r}" if data.split else ""
        raise InvalidInput(f"dataset {data.dataset!r} version {version}{where} has no items", param="dataset")
    experiment = Experiment(
        id=new_id("exp"),
        project_id=principal.project_id,
        name=data.name or f"{data.dataset}@{version} {_task_label(data)}",
        dataset_id=dataset.id,
        dataset_version=version,
        split=data.split,
        task=data.task.model_dump(),
        evaluators=[e.model_dump() for e in data.evaluators],
        concurrency=data.concurrency,
        status="running" if data.task.type == "client" else "queued",
        total=total,
        author=principal.key_id,
    )
    session.add(experiment)
    session.commit()
    return experiment


def launch(session: Session, principal: Principal, data: ExperimentCreate, registry: Any) -> Experiment:
    """Create an experiment and, unless the caller runs the task itself, queue the job that runs it."""
    scoring.check_specs([e.model_dump() for e in data.evaluators], registry)
    experiment = create(session, principal, data)
    if data.task.type != "client":
        job = jobs.submit(
            session, principal, "evals.experiment", {"experiment_id": experiment.id}, max_attempts=5
        )
        experiment.job_id = job.id
        session.commit()
    return experiment


def _task_label(data: ExperimentCreate) -> str:
    return data.task.prompt or data.task.model or data.task.knowledge or data.task.type


def get(session: Session, principal: Principal, experiment_id: str) -> Experiment:
    experiment = session.get(Experiment, experiment_id)
    if experiment is None or not principal.can_see(experiment.project_id):
        raise NotFound(f"experiment {experiment_id!r} not found")
    return experiment


def get_any(session: Session, experiment_id: str) -> Experiment:
    """For the worker, which acts for the experiment's author: no principal to check against."""
    experiment = session.get(Experiment, experiment_id)
    if experiment is None:
        raise NotFound(f"experiment {experiment_id!r} not found")
    return experiment


def dataset_name(session: Session, experiment: Experiment) -> str:
    return session.get_one(Dataset, experiment.dataset_id).name


def list_experiments(
    session: Session, principal: Principal, dataset: str | None, cursor: str | None, limit: int
) -> Page[Experiment]:
    query = select(Experiment).where(Experiment.project_id == principal.project_id)
    if dataset is not None:
        query = query.where(Experiment.dataset_id == datasets.get(session, principal, dataset).id)
    if after := decode_cursor(cursor):
        query = query.where(Experiment.id < after)
    rows = list(session.scalars(query.order_by(Experiment.id.desc()).limit(check_limit(limit) + 1)))
    return page_of(rows, limit, lambda e: e.id)


def pending(session: Session, experiment: Experiment) -> list[DatasetItem]:
    """The pinned version's items that have no result yet (what a run or a resumed run still has to do)."""
    done = select(ExperimentResult.item_key).where(ExperimentResult.experiment_id == experiment.id)
    query = select(DatasetItem).where(
        DatasetItem.dataset_id == experiment.dataset_id,
        datasets.in_version(experiment.dataset_version),
        DatasetItem.item_key.not_in(done),
    )
    if experiment.split is not None:
        query = query.where(DatasetItem.split == experiment.split)
    return list(session.scalars(query.order_by(DatasetItem.item_key)))


def store(session: Session, experiment: Experiment, rows: list[dict[str, Any]]) -> int:
    """Insert results; an item that already has one keeps it (a retried batch never scores twice)."""
    if not rows:
        return 0
    values = [
        {"id": new_id("res"), "experiment_id": experiment.id, "created_at": utcnow(), **row} for row in rows
    ]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(ExperimentResult)
        .values(values)
        .on_conflict_do_nothing(index_elements=["experiment_id", "item_key"])
        .returning(ExperimentResult.id)
    )
    written = len(session.execute(statement).all())  # rowcount is -1 for this on psycopg
    session.commit()
    return written


def counts(session: Session, experiment_id: str) -> tuple[int, int]:
    done = session.scalar(select(func.count()).where(ExperimentResult.experiment_id == experiment_id))
    failed = session.scalar(
        select(func.count()).where(
            ExperimentResult.experiment_id == experiment_id, ExperimentResult.error.is_not(None)
        )
    )
    return int(done or 0), int(failed or 0)


def all_results(session: Session, experiment_id: str) -> list[ExperimentResult]:
    query = select(ExperimentResult).where(ExperimentResult.experiment_id == experiment_id)
    return list(session.scalars(query.order_by(ExperimentResult.item_key)))


def summarize(session: Session, experiment: Experiment) -> dict[str, Any]:
    """Per metric: mean with a 95% bootstrap interval over the items it scored, and how many it could not."""
    results = all_results(session, experiment.id)
    metrics: dict[str, list[float]] = {}
    failures: dict[str, int] = {}
    for result in results:
        for metric, value in result.scores.items():
            metrics.setdefault(metric, []).append(float(value))
        for metric in result.score_errors:
            failures[metric] = failures.get(metric, 0) + 1
    summary: dict[str, Any] = {}
    for metric in sorted(set(metrics) | set(failures)):
        summary[metric] = {**stats.summarize(metrics.get(metric, [])), "failed": failures.get(metric, 0)}
    if "sentence_bleu" in summary:
        scored = [r for r in results if "sentence_bleu" in r.scores]
        corpus = corpus_bleu([r.output for r in scored], [r.expected for r in scored])
        summary["bleu"] = {**corpus, "failed": failures.get("sentence_bleu", 0), "corpus": True}
        summary = dict(sorted(summary.items()))
    return summary


def finish(session: Session, experiment: Experiment, status: str, error: str | None = None) -> Experiment:
    experiment.summary = summarize(session, experiment)
    experiment.status = status
    experiment.error = error
    experiment.finished_at = utcnow()
    session.commit()
    return experiment


def page_results(
    session: Session, experiment: Experiment, cursor: str | None, limit: int
) -> Page[ExperimentResult]:
    query = select(ExperimentResult).where(ExperimentResult.experiment_id == experiment.id)
    if after := decode_cursor(cursor):
        query = query.where(ExperimentResult.item_key > after)
    rows = list(session.scalars(query.order_by(ExperimentResult.item_key).limit(check_limit(limit) + 1)))
    return page_of(rows, limit, lambda r: r.item_key)


def compare(session: Session, principal: Principal, ids: list[str]) -> dict[str, Any]:
    """The first experiment is the baseline; every other is compared with it item by item, per metric."""
    if len(ids) < 2:
        raise InvalidInput("compare needs at least two experiment ids", param="ids")
    experiments = [get(session, principal, i) for i in ids]
    base = experiments[0]
    for other in experiments[1:]:
        if (other.dataset_id, other.dataset_version, other.split) != (
            base.dataset_id,
            base.dataset_version,
            base.split,
        ):
            raise InvalidInput(
                f"experiment {other.id} ran on a different dataset version or split than {base.id}; "
                "comparisons need the same items",
                param="ids",
            )
    scored = {e.id: {r.item_key: r for r in all_results(session, e.id)} for e in experiments}
    names = sorted({m for by_item in scored.values() for r in by_item.values() for m in r.scores})
    metrics: dict[str, dict[str, Any]] = {}
    for metric in names:
        metrics[metric] = {}
        for other in experiments[1:]:
            keys = [
                k
                for k, r in scored[base.id].items()
                if metric in r.scores and k in scored[other.id] and metric in scored[other.id][k].scores
            ]
            metrics[metric][other.id] = stats.paired(
                [float(scored[base.id][k].scores[metric]) for k in keys],
                [float(scored[other.id][k].scores[metric]) for k in keys],
            )
    items = []
    for key in sorted(scored[base.id])[:MAX_COMPARED_ITEMS]:
        row = scored[base.id][key]
        items.append(
            {
                "item_key": key,
                "input": row.input,
                "expected": row.expected,
                "outputs": {e.id: _brief(scored[e.id].get(key)) for e in experiments},
            }
        )
    return {"baseline": base.id, "experiments": ids, "metrics": metrics, "items": items}


def _brief(result: ExperimentResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"output": result.output, "error": result.error, "scores": result.scores}
