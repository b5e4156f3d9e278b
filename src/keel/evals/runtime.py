"""The evaluation service inside the server: runs experiment jobs and gives evaluators model access.

Experiment jobs run on the job worker's thread; every model call (the task, a judge, embeddings) is a
coroutine handed to the server's event loop and goes through the gateway's normal path (`gateway.turns`),
so it is limited, priced and traced like any other call, with `keel.experiment.id` on its span. Up to the
experiment's `concurrency` calls are in flight; finished ones are scored and stored in batches, and the job
reports progress. A job that stops part-way resumes with the items that have no result yet.
"""

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import orjson

from keel.client.prompts import Prompt
from keel.core.auth import Principal, Role
from keel.core.errors import KeelError
from keel.evals import scoring, service
from keel.evals.evaluators.base import Sample
from keel.evals.models import Experiment
from keel.gateway import turns
from keel.jobs.context import JobCancelled, WorkerStopping

log = logging.getLogger("keel.evals")
T = TypeVar("T")
CALL_TIMEOUT_S = 600


def _message(reply_body: bytes) -> str:
    try:
        return str(orjson.loads(reply_body)["error"]["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return reply_body[:200].decode(errors="replace")


def task_request(task: dict[str, Any], value: Any) -> dict[str, Any]:
    """The chat request for one item: a prompt filled with the item's variables, or the item as messages."""
    params = dict(task.get("params") or {})
    if task["type"] == "prompt":
        body: dict[str, Any] = {
            "prompt": task["prompt"],
            "variables": value if isinstance(value, dict) else {"input": value},
        }
        if task.get("model"):
            body["model"] = task["model"]
        return {**params, **body}
    if isinstance(value, list):
        messages = value
    elif isinstance(value, dict) and isinstance(value.get("messages"), list):
        messages = value["messages"]
    else:
        content = value if isinstance(value, str) else orjson.dumps(value).decode()
        messages = [{"role": "user", "content": content}]
    return {**params, "model": task["model"], "messages": messages}


class ServerContext:
    """`EvalContext` for evaluators: calls go through the gateway as `principal`, tagged with `attributes`."""

    def __init__(self, evals: "Evals", principal: Principal, attributes: dict[str, Any]) -> None:
        self._evals = evals
        self._principal = principal
        self._attributes = attributes

    def chat(self, body: dict[str, Any]) -> str:
        output, error, _, _ = self._evals.wait(self._evals.chat(self._principal, body, self._attributes))
        if error is not None:
            raise ValueError(f"judge call failed: {error}")
        return str(output)

    def embed(self, texts: list[str], model: str) -> list[list[float]]:
        return self._evals.wait(self._evals.embed(self._principal, texts, model, self._attributes))

    def prompt(self, ref: str) -> Prompt:
        found = self._evals.wait(self._evals.runtime.service("prompts").resolve(self._principal, ref))
        return Prompt(
            found.name,
            found.version,
            found.messages,
            found.template,
            found.variables,
            found.model,
            found.params,
        )


class Evals:
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.registry = runtime.plugins.evaluators
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()

    def stop(self) -> None:
        self.loop = None

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if self.loop is None:
            coroutine.close()
            raise KeelError("the evaluation service is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def wait(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.submit(coroutine).result(CALL_TIMEOUT_S)

    async def chat(
        self, principal: Principal, body: dict[str, Any], attributes: dict[str, Any]
    ) -> tuple[Any, str | None, float, str | None]:
        """(output text, error, latency ms, trace id) of one non-streaming chat completion."""
        started = time.perf_counter()
        try:
            reply, call = await turns.run_chat(self.runtime, principal, {**body, "stream": False}, attributes)
        except KeelError as exc:
            return None, exc.detail, (time.perf_counter() - started) * 1000, None
        latency = (time.perf_counter() - started) * 1000
        content = reply.body if isinstance(reply.body, bytes) else b""
        if reply.status != 200:
            return None, f"HTTP {reply.status}: {_message(content)}", latency, call.trace_id
        message = orjson.loads(content)["choices"][0]["message"]
        return message.get("content") or "", None, latency, call.trace_id

    async def retrieve(
        self, principal: Principal, task: dict[str, Any], value: Any
    ) -> tuple[Any, str | None, float, str | None]:
        """A retrieval task: search the knowledge base for the item's query; the output is the ranked hits."""
        query = value.get("query") if isinstance(value, dict) else value
        started = time.perf_counter()
        if not isinstance(query, str) or not query:
            return None, 'the item\'s input must be a query string (or {"query": ...})', 0.0, None
        params = task.get("params") or {}
        try:
            hits = await asyncio.to_thread(
                self.runtime.service("knowledge").search_by_name,
                principal,
                task["knowledge"],
                query,
                int(params.get("top_k", 10)),
                str(params.get("mode", "hybrid")),
            )
        except KeelError as exc:
            return None, exc.detail, (time.perf_counter() - started) * 1000, None
        output = [{k: h[k] for k in ("source", "document_id", "chunk_id", "score")} for h in hits]
        return output, None, (time.perf_counter() - started) * 1000, None

    async def embed(
        self, principal: Principal, texts: list[str], model: str, attributes: dict[str, Any]
    ) -> list[list[float]]:
        reply, _ = await turns.run_embeddings(
            self.runtime, principal, {"model": model, "input": texts}, attributes
        )
        content = reply.body if isinstance(reply.body, bytes) else b""
        if reply.status != 200:
            raise ValueError(f"embedding call failed: HTTP {reply.status}: {_message(content)}")
        return [row["embedding"] for row in sorted(orjson.loads(content)["data"], key=lambda r: r["index"])]

    def context(self, principal: Principal, experiment_id: str) -> ServerContext:
        return ServerContext(
            self, principal, {"keel.experiment.id": experiment_id, "keel.eval.role": "judge"}
        )

    def score_rows(
        self, principal: Principal, experiment: Experiment, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Add scores, score errors and reasons to result rows (items whose task failed get none)."""
        samples = [
            None
            if row["error"] is not None
            else Sample(row["input"], row["output"], row["expected"], row["metadata"])
            for row in rows
        ]
        scored = scoring.score(
            experiment.evaluators, self.registry, samples, self.context(principal, experiment.id)
        )
        return [
            {
                **{k: v for k, v in row.items() if k != "metadata"},
                "scores": s.scores,
                "score_errors": s.errors,
                "reasons": s.reasons,
            }
            for row, s in zip(rows, scored, strict=True)
        ]

    def run_job(self, ctx: Any) -> dict[str, Any]:
        experiment_id = ctx.params["experiment_id"]
        with ctx.session() as session:
            experiment = service.get_any(session, experiment_id)
            principal = Principal(experiment.author, experiment.project_id, Role.member)
            todo = [
                {
                    "item_key": i.item_key,
                    "input": i.input,
                    "expected": i.expected,
                    "metadata": i.item_metadata,
                }
                for i in service.pending(session, experiment)
            ]
            experiment.status = "running"
            session.commit()
            snapshot = {
                "id": experiment.id,
                "task": experiment.task,
                "concurrency": experiment.concurrency,
                "total": experiment.total,
                "evaluators": experiment.evaluators,
            }
        try:
            self._run_items(ctx, principal, snapshot, todo)
        except JobCancelled:
            self._finish(ctx, experiment_id, "cancelled", "cancelled by request")
            raise
        except WorkerStopping:
            raise  # the job is requeued and resumes with the items that have no result
        except Exception as exc:
            self._finish(ctx, experiment_id, "failed", str(exc) or type(exc).__name__)
            raise
        self._traces_stored()
        summary = self._finish(ctx, experiment_id, "succeeded", None)
        return {"experiment_id": experiment_id, "summary": summary}

    def _traces_stored(self) -> None:
        """A finished experiment's trace ids resolve: wait for the trace writer to commit the items' spans."""
        try:
            self.runtime.service("tracing.writer").barrier()
        except Exception as exc:  # the experiment's results stand; its traces may land later or not at all
            log.warning("experiment traces may still be queued: %s", exc)

    def _finish(self, ctx: Any, experiment_id: str, status: str, error: str | None) -> dict[str, Any]:
        with ctx.session() as session:
            experiment = service.finish(session, service.get_any(session, experiment_id), status, error)
            return dict(experiment.summary or {})

    def _run_items(
        self, ctx: Any, principal: Principal, experiment: dict[str, Any], todo: list[dict[str, Any]]
    ) -> None:
        attributes = {"keel.experiment.id": experiment["id"]}
        limit = int(experiment["concurrency"])
        done_before = experiment["total"] - len(todo)
        queue = list(reversed(todo))
        in_flight: dict[concurrent.futures.Future[Any], dict[str, Any]] = {}
        finished: list[dict[str, Any]] = []
        stored = 0
        try:
            while queue or in_flight:
                ctx.check()
                while queue and len(in_flight) < limit:
                    item = queue.pop()
                    item_attributes = {**attributes, "keel.dataset.item": item["item_key"]}
                    task = experiment["task"]
                    if task["type"] == "retrieval":
                        work = self.retrieve(principal, task, item["input"])
                    else:
                        work = self.chat(principal, task_request(task, item["input"]), item_attributes)
                    in_flight[self.submit(work)] = item
                ready, _ = concurrent.futures.wait(
                    in_flight, timeout=1.0, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for future in ready:
                    item = in_flight.pop(future)
                    output, error, latency, trace_id = future.result()
                    finished.append(
                        {
                            **item,
                            "output": output,
                            "error": error,
                            "latency_ms": latency,
                            "trace_id": trace_id,
                        }
                    )
                if finished and (len(finished) >= limit or not (queue or in_flight)):
                    stored += self._store(ctx, principal, experiment["id"], finished)
                    finished = []
                    done = done_before + stored
                    ctx.progress(done / experiment["total"], f"{done}/{experiment['total']} items")
        finally:
            for future in in_flight:
                future.cancel()

    def _store(self, ctx: Any, principal: Principal, experiment_id: str, rows: list[dict[str, Any]]) -> int:
        with ctx.session() as session:
            experiment = service.get_any(session, experiment_id)
            scored = self.score_rows(principal, experiment, rows)
            return service.store(session, experiment, scored)
