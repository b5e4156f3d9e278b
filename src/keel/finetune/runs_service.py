"""Fine-tune runs in the store: validate a config and queue its job, read runs and their metrics.

Everything that can be checked before training is checked here, so a bad config is a 422 naming the
problem instead of a job that fails minutes later: the dataset and version exist, its items have the shape
of chat examples, the base model can be found offline, QLoRA's requirements are present.
"""

import hashlib
import importlib.util
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.errors import InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.pagination import Page, check_limit, decode_cursor, page_of
from keel.datasets import service as datasets
from keel.datasets.models import Dataset, DatasetItem
from keel.finetune.bases import check_base
from keel.finetune.examples import BadExamples, Example, to_examples
from keel.finetune.models import FineTuneMetric, FineTuneRun, ModelVersion
from keel.finetune.schemas import FineTuneCreate
from keel.jobs import service as jobs
from keel.jobs.models import Job

JOB_KIND = "finetune.lora"
HOLDOUT_PERCENT = 10


def _dataset(session: Session, principal: Principal, ref: str) -> tuple[Dataset, int]:
    name, _, number = ref.partition("@")
    dataset = datasets.get(session, principal, name)
    version = datasets.check_version(dataset, int(number) if number else None)
    if version == 0:
        raise InvalidInput(f"dataset {name!r} has no items yet", param="dataset")
    return dataset, version


def _hold_out(items: list[DatasetItem], seed: int) -> set[str]:
    """The keys of a deterministic HOLDOUT_PERCENT (at least one) of the items, ranked by a seeded hash."""
    ranked = sorted(items, key=lambda i: hashlib.sha256(f"{seed}:{i.item_key}".encode()).digest())
    return {i.item_key for i in ranked[: max(1, round(len(items) * HOLDOUT_PERCENT / 100))]}


def partition(
    items: list[DatasetItem], config: dict[str, Any]
) -> tuple[list[DatasetItem], list[DatasetItem], dict[str, Any]]:
    """Train and eval items, and how they were chosen (recorded in the run's summary and lineage)."""
    splits = {i.split for i in items if i.split}
    train_split = config.get("train_split") or ("train" if "train" in splits else None)
    eval_split = config.get("eval_split") or ("test" if "test" in splits else None)
    for wanted in (train_split, eval_split):
        if wanted and wanted not in splits:
            raise InvalidInput(
                f"the dataset has no split {wanted!r} (it has: {', '.join(sorted(splits)) or 'none'})",
                param="dataset",
            )
    eval_items = [i for i in items if eval_split and i.split == eval_split]
    if train_split:
        train_items = [i for i in items if i.split == train_split]
    else:
        train_items = [i for i in items if not (eval_split and i.split == eval_split)]
    how = {"train_split": train_split, "eval_split": eval_split}
    if eval_split is None and len(train_items) >= 10:
        seed = int(config.get("seed", 0))
        held = _hold_out(train_items, seed)
        eval_items = [i for i in train_items if i.item_key in held]
        train_items = [i for i in train_items if i.item_key not in held]
        how["held_out"] = f"{HOLDOUT_PERCENT}% of items by seeded key hash (seed {seed}), for eval loss only"
    if not train_items:
        raise InvalidInput("no items to train on (check train_split)", param="dataset")
    return train_items, eval_items, how


def examples(items: list[DatasetItem]) -> list[Example]:
    try:
        return to_examples([(i.item_key, i.input, i.expected) for i in items])
    except BadExamples as exc:
        raise InvalidInput(str(exc), param="dataset") from None


def create_run(session: Session, principal: Principal, data: FineTuneCreate, model_roots: str) -> FineTuneRun:
    principal.require(Role.member)
    check_base(data.base_model, model_roots)
    if data.method == "qlora" and importlib.util.find_spec("bitsandbytes") is None:
        raise InvalidInput(
            "QLoRA needs bitsandbytes and a CUDA GPU; neither is installed here (use method: lora)",
            param="method",
        )
    dataset, version = _dataset(session, principal, data.dataset)
    config = data.model_dump(mode="json")
    train_items, eval_items, _ = partition(datasets.items(session, dataset, version), config)
    examples(train_items + eval_items)
    run = FineTuneRun(
        id=new_id("ft"),
        project_id=principal.project_id,
        name=data.name or f"{data.register_as or 'lora'} on {dataset.name}@{version}",
        base_model=data.base_model,
        dataset_id=dataset.id,
        dataset_name=dataset.name,
        dataset_version=version,
        method=data.method,
        params=data.params.model_dump(mode="json"),
        config=config,
        register_as=data.register_as,
        system={},
        summary={"train_items": len(train_items), "eval_items": len(eval_items)},
        author=principal.key_id,
    )
    session.add(run)
    job = jobs.submit(session, principal, JOB_KIND, {"run_id": run.id})
    run.job_id = job.id
    session.commit()
    return run


def get_run(session: Session, principal: Principal, run_id: str) -> FineTuneRun:
    run = session.get(FineTuneRun, run_id)
    if run is None or not principal.can_see(run.project_id):
        raise NotFound(f"fine-tune {run_id!r} not found")
    return run


def get_any(session: Session, run_id: str) -> FineTuneRun:
    return session.get_one(FineTuneRun, run_id)


def job_of(session: Session, run: FineTuneRun) -> Job | None:
    return session.get(Job, run.job_id) if run.job_id else None


def version_of(session: Session, run: FineTuneRun) -> ModelVersion | None:
    return session.get(ModelVersion, run.model_version_id) if run.model_version_id else None


def list_runs(session: Session, principal: Principal, cursor: str | None, limit: int) -> Page[FineTuneRun]:
    query = select(FineTuneRun).where(FineTuneRun.project_id == principal.project_id)
    if before := decode_cursor(cursor):
        query = query.where(FineTuneRun.id < before)
    rows = list(session.scalars(query.order_by(FineTuneRun.id.desc()).limit(check_limit(limit) + 1)))
    return page_of(rows, limit, lambda r: r.id)


def cancel(session: Session, principal: Principal, run_id: str) -> FineTuneRun:
    run = get_run(session, principal, run_id)
    if run.job_id is None:
        raise NotFound(f"fine-tune {run_id!r} has no job")
    jobs.cancel(session, principal, run.job_id)
    return run


def metrics(
    session: Session, principal: Principal, run_id: str, after_step: int = -1
) -> list[FineTuneMetric]:
    get_run(session, principal, run_id)
    query = select(FineTuneMetric).where(FineTuneMetric.run_id == run_id, FineTuneMetric.step > after_step)
    return list(session.scalars(query.order_by(FineTuneMetric.step, FineTuneMetric.kind)))


def record_metric(session: Session, run_id: str, kind: str, step: int, values: dict[str, Any]) -> None:
    """Idempotent per (run, kind, step): a resumed attempt that reports a step again overwrites it."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(FineTuneMetric).values(run_id=run_id, kind=kind, step=step, values=values)
    session.execute(
        statement.on_conflict_do_update(index_elements=["run_id", "kind", "step"], set_={"values": values})
    )
    session.commit()


def update_run(session: Session, run_id: str, **fields: Any) -> FineTuneRun:
    run = session.get_one(FineTuneRun, run_id)
    for name, value in fields.items():
        setattr(run, name, value)
    session.commit()
    return run
