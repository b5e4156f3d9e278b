"""The evaluation gate at the end of a fine-tune: the new version against the champion on held-out items.

Two experiments run through the gateway on the run's held-out split (so they are traced, priced and
comparable like any other), then `compare` pairs them item by item. The result, with its per-metric verdict,
goes into the version's lineage; a failure here is recorded there too and never un-registers the version.
"""

from typing import Any

from keel.core.auth import Principal
from keel.evals import service as experiments
from keel.evals.schemas import ExperimentCreate
from keel.finetune import service as registry
from keel.finetune.models import ModelVersion
from keel.finetune.schemas import EvaluateSpec
from keel.jobs.context import JobCancelled, JobContext, WorkerStopping


class _ExperimentContext:
    """The fine-tune job's context as the experiment runner expects it, with progress mapped to 95-100%."""

    def __init__(self, ctx: JobContext, experiment_id: str, share: tuple[float, float]) -> None:
        self.params = {"experiment_id": experiment_id}
        self.session = ctx.session
        self.check = ctx.check
        self.log = ctx.log
        self._ctx, self._share = ctx, share

    def progress(self, fraction: float, message: str | None = None) -> None:
        start, width = self._share
        self._ctx.progress(0.95 + 0.05 * (start + width * fraction), f"evaluating: {message or ''}")


def _against(ctx: JobContext, principal: Principal, name: str, base_model: str, wanted: str | None) -> str:
    if wanted:
        return wanted
    with ctx.session() as session:
        model = registry.get_model(session, principal, name)
        if "champion" in registry.aliases(session, model.id):
            return f"{name}@champion"
    return base_model


def compare_with_champion(
    ctx: JobContext,
    runtime: Any,
    principal: Principal,
    snapshot: dict[str, Any],
    version: ModelVersion,
    split: str,
    spec: dict[str, Any],
) -> dict[str, Any]:
    name = snapshot["register_as"]
    candidate = f"{name}@v{version.version}"
    against = _against(ctx, principal, name, snapshot["base_model"], spec.get("against"))
    evaluators = spec.get("evaluators") or EvaluateSpec().evaluators
    record: dict[str, Any] = {"candidate": candidate, "against": against, "split": split}
    evals = runtime.service("evals")
    try:
        ids = []
        for number, model in enumerate((against, candidate)):
            data = ExperimentCreate(
                name=f"{model} on {snapshot['dataset']}@{snapshot['dataset_version']}:{split} (gate)",
                dataset=snapshot["dataset"],
                version=snapshot["dataset_version"],
                split=split,
                task={
                    "type": "model",
                    "model": model,
                    "params": {"temperature": 0, "max_tokens": spec.get("max_tokens", 128)},
                },
                evaluators=evaluators,
                concurrency=spec.get("concurrency", 2),
            )
            with ctx.session() as session:
                experiment_id = experiments.create(session, principal, data).id
            ids.append(experiment_id)
            ctx.log(f"evaluating {model} on split {split!r}: experiment {experiment_id}")
            evals.run_job(_ExperimentContext(ctx, experiment_id, (number / 2, 0.5)))
        with ctx.session() as session:
            comparison = experiments.compare(session, principal, ids)
            summaries = {e: dict(experiments.get(session, principal, e).summary or {}) for e in ids}
        record.update(
            baseline_experiment=ids[0],
            candidate_experiment=ids[1],
            summaries={"against": summaries[ids[0]], "candidate": summaries[ids[1]]},
            metrics={metric: by[ids[1]] for metric, by in comparison["metrics"].items()},
        )
        verdicts = ", ".join(f"{m} {r['verdict']}" for m, r in record["metrics"].items())
        ctx.log(f"evaluation of {candidate} vs {against}: {verdicts}")
    except (JobCancelled, WorkerStopping):
        raise
    except Exception as exc:  # recorded on the version; the registered version stays
        record["error"] = str(exc)
        ctx.log(f"evaluation of {candidate} failed: {exc}", "warning")
    with ctx.session() as session:
        registry.add_evaluation(session, version.id, record)
    return record
