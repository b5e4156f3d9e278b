"""The fine-tuning service: runs a fine-tune job end to end and owns the artifact store.

A job writes its examples and spec under `runs/<run id>/` in the artifact store, starts the training process
(`keel.finetune.train`), turns its events into metrics, progress and logs, and on success registers the
adapter as a new model version (alias `challenger`) and, if asked, evaluates it against the champion on the
held-out split. Cancel and shutdown stop the process; the checkpoints stay, so a retry resumes.
"""

import json
import math
from pathlib import Path
from typing import Any

from keel.core.auth import Principal, Role
from keel.core.errors import KeelError
from keel.datasets import service as datasets
from keel.datasets.models import Dataset
from keel.finetune import evaluation
from keel.finetune import runs_service as runs
from keel.finetune import service as registry
from keel.finetune.artifacts import LocalArtifactStore
from keel.finetune.bases import base_dir
from keel.finetune.process import TrainingProcess
from keel.jobs.context import JobCancelled, JobContext, WorkerStopping


class FineTuneFailed(KeelError):
    status = 422
    code = "finetune_failed"
    title = "Fine-tune failed"


def _finite(values: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN: non-finite floats are stored as strings ("nan", "inf")."""
    return {k: (str(v) if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()}


class FineTune:
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        root = Path(self.settings.artifact_dir) if self.settings.artifact_dir else None
        self.store = LocalArtifactStore(root or self.settings.data_dir / "artifacts")

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def adapter_path(self, artifact_key: str) -> Path:
        return self.store.local_path(artifact_key)

    def served(self, session: Any, project_id: str) -> list[registry.Served]:
        return registry.served(session, project_id)

    def run_job(self, ctx: JobContext) -> dict[str, Any]:
        run_id = ctx.params["run_id"]
        with ctx.session() as session:
            run = runs.get_any(session, run_id)
            if run.project_id != ctx.project_id or run.job_id != ctx.job_id:
                raise FineTuneFailed(f"job {ctx.job_id} is not the job of fine-tune {run_id}")
            dataset = session.get_one(Dataset, run.dataset_id)
            train_items, eval_items, how = runs.partition(
                datasets.items(session, dataset, run.dataset_version), run.config
            )
            train, held_out = runs.examples(train_items), runs.examples(eval_items)
            snapshot: dict[str, Any] = {
                "project_id": run.project_id,
                "author": run.author,
                "base_model": run.base_model,
                "method": run.method,
                "params": dict(run.params),
                "config": dict(run.config),
                "register_as": run.register_as,
                "dataset": run.dataset_name,
                "dataset_version": run.dataset_version,
            }
        run_dir = self.store.local_path(f"runs/{run_id}")
        run_dir.mkdir(parents=True, exist_ok=True)
        for name, rows in (("train.jsonl", train), ("eval.jsonl", held_out)):
            (run_dir / name).write_text("".join(json.dumps(e.as_json()) + "\n" for e in rows))
        ctx.progress(0.0, "preparing the base model")
        spec = {
            "base_model_dir": str(base_dir(snapshot["base_model"], self.settings.cache_dir)),
            "train_file": str(run_dir / "train.jsonl"),
            "eval_file": str(run_dir / "eval.jsonl") if held_out else None,
            "output_dir": str(run_dir),
            "method": snapshot["method"],
            "params": snapshot["params"],
            "seed": int(snapshot["config"].get("seed", 0)),
            "threads": self.settings.finetune_threads,
            "memory_limit_mb": self.settings.finetune_memory_limit_mb,
        }
        (run_dir / "spec.json").write_text(json.dumps(spec, indent=2))
        ctx.log(f"training on {len(train)} examples, {len(held_out)} held out ({json.dumps(how)})")
        done = self._train(ctx, run_id, run_dir)
        result: dict[str, Any] = {"run_id": run_id, "metrics": done["metrics"]}
        if snapshot["register_as"]:
            version = self._register(ctx, run_id, snapshot, Path(done["adapter_dir"]), done["metrics"], how)
            result["model_version"] = f"{snapshot['register_as']}@v{version.version}"
            evaluate = snapshot["config"].get("evaluate")
            if evaluate and how.get("eval_split"):
                principal = Principal(snapshot["author"], snapshot["project_id"], Role.member)
                spec_in = evaluate if isinstance(evaluate, dict) else {}
                record = evaluation.compare_with_champion(
                    ctx, self.runtime, principal, snapshot, version, how["eval_split"], spec_in
                )
                result["evaluation"] = record
            elif evaluate:
                ctx.log("evaluation skipped: the dataset has no held-out split (e.g. `test`)", "warning")
        return result

    def _train(self, ctx: JobContext, run_id: str, run_dir: Path) -> dict[str, Any]:
        process = TrainingProcess(
            run_dir / "spec.json",
            run_dir / "train.log",
            self.settings.finetune_threads,
        )
        done: dict[str, Any] | None = None
        error: str | None = None
        try:
            for kind, payload in process.lines(ctx.check):
                if kind == "log":
                    if not payload.startswith("{'"):  # the Trainer's own dict prints are in train.log
                        ctx.log(payload[:2000], "warning" if "Warning" in payload else "info")
                    continue
                event = payload.pop("event")
                if event == "step":
                    step, total = int(payload.pop("step")), int(payload.pop("max_steps") or 0)
                    with ctx.session() as session:
                        runs.record_metric(session, run_id, "train", step, _finite(payload))
                    ctx.progress(
                        0.95 * step / max(total, 1), f"step {step}/{total} loss {payload['loss']:.4f}"
                    )
                elif event == "eval":
                    step = int(payload.pop("step"))
                    with ctx.session() as session:
                        runs.record_metric(session, run_id, "eval", step, _finite(payload))
                    ctx.log(f"eval loss {payload['eval_loss']:.4f} at step {step}")
                elif event == "start":
                    self._started(ctx, run_id, payload)
                elif event == "checkpoint":
                    ctx.log(f"checkpoint saved at step {payload['step']}")
                elif event == "error":
                    error = str(payload["reason"])
                elif event == "done":
                    done = payload
        except (JobCancelled, WorkerStopping):
            process.stop()
            raise
        finally:
            process.close()
        if done is None:
            reason = error or process.exit_reason()
            with ctx.session() as session:
                run = runs.get_any(session, run_id)
                runs.update_run(session, run_id, summary={**run.summary, "error": reason})
            raise FineTuneFailed(f"{reason} (logs: train.log of run {run_id}; checkpoints kept)")
        return done

    def _started(self, ctx: JobContext, run_id: str, payload: dict[str, Any]) -> None:
        trainable, total = payload["trainable_params"], payload["total_params"]
        with ctx.session() as session:
            run = runs.get_any(session, run_id)
            summary = {**run.summary, "trainable_params": trainable, "total_params": total}
            runs.update_run(session, run_id, system=payload["system"], summary=summary)
        resumed = " (resumed from the last checkpoint)" if payload.get("resumed") else ""
        ctx.log(
            f"training {trainable:,} of {total:,} parameters ({100 * trainable / total:.2f}%) "
            f"on {payload['system']['device']}{resumed}"
        )

    def _register(
        self,
        ctx: JobContext,
        run_id: str,
        snapshot: dict[str, Any],
        adapter: Path,
        metrics: dict[str, Any],
        how: dict[str, Any],
    ) -> Any:
        lineage = {
            "run_id": run_id,
            "job_id": ctx.job_id,
            "dataset": snapshot["dataset"],
            "dataset_version": snapshot["dataset_version"],
            "method": snapshot["method"],
            "params": snapshot["params"],
            "seed": snapshot["config"].get("seed", 0),
            **how,
        }
        with ctx.session() as session:
            version = registry.register_version(
                session,
                self.store,
                adapter,
                project_id=snapshot["project_id"],
                author=snapshot["author"],
                name=snapshot["register_as"],
                base_model=snapshot["base_model"],
                run_id=run_id,
                lineage=lineage,
                metrics=_finite(metrics),
            )
            run = runs.get_any(session, run_id)
            runs.update_run(session, run_id, model_version_id=version.id, summary={**run.summary, **metrics})
        ctx.log(f"registered {snapshot['register_as']}@v{version.version} (alias challenger)")
        return version
