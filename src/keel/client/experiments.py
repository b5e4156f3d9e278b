"""`keel.Client().experiments`: run a task over a dataset and score it, on the server or with your own code.

`run(dataset=..., task="prompt:NAME@LABEL" | "model:NAME" | callable, evaluators=[...])`. A prompt or model
task runs on the server as a job (through the gateway, traced); a Python callable runs here, one traced span
per item (`keel.experiment.id` on it), with the outputs sent back to be scored by the server's evaluators.
Calling `run(..., experiment_id=ID)` again continues a client run that stopped: items already scored are
skipped.
"""

import concurrent.futures
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keel.client.http import Client

BATCH = 50


class ExperimentRun:
    def __init__(self, client: "Client", data: dict[str, Any]) -> None:
        self._client = client
        self.data = data

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def status(self) -> str:
        return str(self.data["status"])

    @property
    def summary(self) -> dict[str, Any]:
        """`{"rougeL": {"mean": ..., "ci": [lo, hi], "n": ..., "failed": ...}, ...}`"""
        return dict(self.data["summary"])

    @property
    def items(self) -> list[dict[str, Any]]:
        """Per item: input, expected, output, scores, score_errors, error, trace_id."""
        return self._client.paginate(f"/api/v1/experiments/{self.id}/results")

    def refresh(self) -> "ExperimentRun":
        self.data = self._client.request("GET", f"/api/v1/experiments/{self.id}")
        return self

    def wait(
        self, timeout: float = 3600, on_progress: Callable[[dict[str, Any]], None] | None = None
    ) -> "ExperimentRun":
        deadline = time.monotonic() + timeout
        while self.refresh().status not in ("succeeded", "failed", "cancelled"):
            if on_progress is not None:
                on_progress(self.data)
            if time.monotonic() > deadline:
                raise TimeoutError(f"experiment {self.id} still {self.status} after {timeout} s")
            time.sleep(0.5)
        return self

    def __repr__(self) -> str:
        return f"ExperimentRun({self.id}, {self.status}, {self.data.get('done')}/{self.data.get('total')})"


def task_spec(
    task: str | Callable[[Any], Any], model: str | None, params: dict[str, Any] | None
) -> dict[str, Any]:
    if callable(task):
        return {"type": "client"}
    kind, _, ref = task.partition(":")
    if kind == "prompt" and ref:
        return {"type": "prompt", "prompt": ref, "model": model, "params": params or {}}
    if kind == "model" and ref:
        return {"type": "model", "model": ref, "params": params or {}}
    raise ValueError(f"task must be a callable, 'prompt:NAME[@LABEL]' or 'model:NAME'; got {task!r}")


class ExperimentsAPI:
    def __init__(self, client: "Client") -> None:
        self._client = client

    def get(self, experiment_id: str) -> ExperimentRun:
        return ExperimentRun(
            self._client, self._client.request("GET", f"/api/v1/experiments/{experiment_id}")
        )

    def list_all(self, dataset: str | None = None) -> list[dict[str, Any]]:
        return self._client.paginate("/api/v1/experiments", **({"dataset": dataset} if dataset else {}))

    def compare(self, baseline: str, *others: str) -> dict[str, Any]:
        return dict(
            self._client.request("GET", "/api/v1/experiments/compare", params={"ids": [baseline, *others]})
        )

    def run(
        self,
        dataset: str,
        task: str | Callable[[Any], Any],
        evaluators: list[str | dict[str, Any]],
        *,
        name: str = "",
        version: int | None = None,
        split: str | None = None,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        concurrency: int = 8,
        wait: bool = True,
        experiment_id: str | None = None,
    ) -> ExperimentRun:
        if experiment_id is not None:
            run = self.get(experiment_id)
        else:
            body = {
                "name": name,
                "dataset": dataset,
                "version": version,
                "split": split,
                "task": task_spec(task, model, params),
                "evaluators": evaluators,
                "concurrency": concurrency,
            }
            run = ExperimentRun(self._client, self._client.request("POST", "/api/v1/experiments", json=body))
        if callable(task):
            self._run_here(run, task, concurrency)
            return run
        return run.wait() if wait else run

    def _run_here(self, run: ExperimentRun, task: Callable[[Any], Any], concurrency: int) -> None:
        from keel.tracing import sdk  # the OpenTelemetry SDK loads only for experiments run here

        sdk.use_client(self._client.url, self._client.api_key)
        pending = self._client.request("GET", f"/api/v1/experiments/{run.id}/pending")["items"]

        def one(item: dict[str, Any]) -> dict[str, Any]:
            attributes = {"keel.experiment.id": run.id, "keel.dataset.item": item["item_key"]}
            started = time.perf_counter()
            with sdk.trace(
                f"experiment {run.data['name']}", span_type="chain", attributes=attributes
            ) as span:
                span.set_input(item["input"])
                trace_id = format(span.span.get_span_context().trace_id, "032x")
                try:
                    output = task(item["input"])
                except Exception as exc:  # the user's task failed on this item: recorded, the run goes on
                    span.record_error(exc)
                    error = f"{type(exc).__name__}: {exc}"
                    return {
                        "item_key": item["item_key"],
                        "error": error,
                        "trace_id": trace_id,
                        "latency_ms": (time.perf_counter() - started) * 1000,
                    }
                span.set_output(output)
            return {
                "item_key": item["item_key"],
                "output": output,
                "trace_id": trace_id,
                "latency_ms": (time.perf_counter() - started) * 1000,
            }

        with concurrent.futures.ThreadPoolExecutor(max(1, concurrency)) as pool:
            batch: list[dict[str, Any]] = []
            for result in pool.map(one, pending):
                batch.append(result)
                if len(batch) >= BATCH:
                    self._send(run, batch)
                    batch = []
            if batch:
                self._send(run, batch)
        sdk.flush()
        run.data = self._client.request("POST", f"/api/v1/experiments/{run.id}/finish")

    def _send(self, run: ExperimentRun, batch: list[dict[str, Any]]) -> None:
        self._client.request("POST", f"/api/v1/experiments/{run.id}/results", json={"results": batch})
