"""One gateway call from admission to its books: resolve the prompt, route, admit against limits, call
upstream (with the cache), then price, trace and settle. Both the HTTP endpoints and in-process callers
(experiments, judges) run calls through here, so every path is limited, traced and priced the same way.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from keel.core.auth import Principal, Role
from keel.core.errors import KeelError
from keel.gateway import chat, limits
from keel.gateway.cache import cache_key
from keel.gateway.config import ProjectGateway, RoutePlan
from keel.gateway.guard import (
    GuardrailBlocked,
    Verdicts,
    guard_input,
    guard_output,
    held_stream,
    retry_reason,
)
from keel.gateway.runtime import Gateway
from keel.knowledge import rag
from keel.server.fast import Reply
from keel.tracing.internal import InternalSpan, internal_row

log = logging.getLogger("keel.gateway")


async def view(runtime: Any, project_id: str) -> ProjectGateway:
    gateway: Gateway = runtime.service("gateway")
    return await gateway.config.view(project_id)


@dataclass
class Turn:
    """One gateway call in flight: what it was admitted with, and how to close its books."""

    runtime: Any
    gateway: Gateway
    view: ProjectGateway
    plan: RoutePlan
    guard: limits.Guard
    call: chat.Call
    retrieval: rag.Retrieval | None = None
    verdicts: Verdicts = field(default_factory=Verdicts)

    def release(self) -> None:
        """The call was refused after admission (e.g. a knowledge base it names does not exist): give its
        budget hold back; there is no upstream call to trace."""
        limits.settle(self.gateway.budgets, self.gateway.windows, self.guard, None, 0)

    async def finish(self) -> None:
        """Price the call, settle its budget hold and trace it (the trace's commit writes the spend)."""
        self.call.count_tokens_if_missing()
        self.call.price(self.view.prices)
        limits.settle(
            self.gateway.budgets, self.gateway.windows, self.guard, self.call.usage, self.call.cost_micros
        )
        if self.verdicts.spans:
            self.call.attributes["keel.guardrails"] = self.verdicts.entries
            for stage, started, ended, attributes in self.verdicts.spans:
                self.call.child_spans.append(
                    InternalSpan(
                        self.call.project_id,
                        f"guardrail {stage}",
                        started,
                        ended,
                        attributes,
                        trace_id=self.call.trace_id,
                        parent_span_id=self.call.span_id,
                        kind="internal",
                        service_name="keel-guardrails",
                    )
                )
        record(self.runtime, self.call)


async def begin(
    runtime: Any,
    principal: Principal,
    body: dict[str, Any],
    operation: str,
    attributes: dict[str, Any] | None,
    checked: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]] | None = None,
) -> Turn:
    """Admit a call: rate limits first (before any work), then `checked(body)` (validation, and whatever
    fills the body in), the route, and the budget hold."""
    principal.require(Role.member)
    gateway: Gateway = runtime.service("gateway")
    project = await view(runtime, principal.project_id)
    guard = limits.admit_rates(gateway.windows, project, principal)
    if checked is not None:
        body = await checked(body)
    plan = project.plan(body["model"])
    await limits.admit_budget(gateway.budgets, guard, project, principal, plan, body)
    call = chat.Call(principal.project_id, plan.name, body, operation)
    call.attributes.update(attributes or {})
    return Turn(runtime, gateway, project, plan, guard, call)


async def run_chat(
    runtime: Any, principal: Principal, body: dict[str, Any], attributes: dict[str, Any] | None = None
) -> tuple[Reply, chat.Call]:
    """A chat completion for `body` (a parsed request, possibly naming a prompt or knowledge bases).

    Everything that can refuse the call does so before the expensive part: validation (after the rate
    limits and the render when a prompt fills the body in), the route, the budget; only then retrieval (an
    embedding and a search) and upstream."""
    prompt = None
    options = body.pop("knowledge", None) if "knowledge" in body else None
    templated = "prompt" in body or "variables" in body
    if not templated:
        chat.check_chat(body)

    async def checked(given: dict[str, Any]) -> dict[str, Any]:
        nonlocal prompt
        if templated:
            prompt = await runtime.service("prompts").apply(principal, given)
            chat.check_chat(given)
        return given

    turn = await begin(runtime, principal, body, "chat", attributes, checked)
    if prompt is not None:
        turn.call.prompt = (prompt.name, prompt.version)
    policy = turn.plan.guardrails
    if policy is not None:
        try:
            guard_input(policy, body, turn.verdicts)
        except GuardrailBlocked as exc:
            turn.call.error = exc.detail
            turn.call.attributes["keel.guardrail.blocked"] = "input"
            await turn.finish()
            raise
    if options is not None:
        try:
            await _retrieve(runtime, principal, options, turn)
        except BaseException:
            turn.release()
            raise
    gateway, plan, call = turn.gateway, turn.plan, turn.call
    if not body.get("stream"):
        key = cache_key(principal.project_id, plan.name, body) if plan.cache_ttl_s else None
        cached = gateway.cache.get(key) if key else None
        retry_passed = False  # the retry rules already passed the answer (not re-run on it)
        try:
            if cached is not None:
                call.cache_hit = True
                status, content = 200, cached
                chat.account_cached(call, cached)
            else:
                status, content = await chat.complete(gateway.pool, plan, call, gateway.circuits)
                if policy is not None and status == 200:
                    why = retry_reason(policy, content, turn.verdicts)
                    retry_passed = why is None
                    if why is not None:
                        content = await _ask_again(turn, content, why)
                if key and status == 200:
                    gateway.cache.put(key, content, plan.cache_ttl_s or 0)
            if policy is not None and policy.output and status == 200:
                content = guard_output(policy, content, turn.verdicts, retry_passed)
                call.pieces[:] = [str(c["message"]["content"]) for c in orjson.loads(content)["choices"][:1]]
            if turn.retrieval is not None and status == 200:
                citations = turn.retrieval.citations()
                content = orjson.dumps({**orjson.loads(content), "citations": citations})
        finally:
            await turn.finish()
        headers = {"x-keel-cache": "hit" if call.cache_hit else "miss"} if key else None
        return Reply(status, content, headers=headers), call
    try:
        status, chunks = await chat.open_stream(gateway.pool, plan, call, gateway.circuits)
    except Exception:
        await turn.finish()
        raise

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            await turn.finish()

    async def held() -> AsyncIterator[bytes]:
        """Output rules on a stream: the whole answer is held back, checked, then sent."""
        assert policy is not None
        try:
            async for chunk in chunks:
                if call.error:  # the upstream broke off: only the error event goes out
                    yield chunk[chunk.rfind(b"data: ") :]
                    return
            wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            reply, sent = held_stream(
                policy, call.output, call.response_model, call.finish, call.usage, wants_usage, turn.verdicts
            )
            call.pieces[:] = [sent]
            yield reply
        finally:
            await turn.finish()

    if status == 200 and policy is not None and policy.output:
        return Reply(status, held(), "text/event-stream"), call

    return Reply(status, relay(), "text/event-stream" if status == 200 else "application/json"), call


async def _ask_again(turn: Turn, content: bytes, why: str) -> bytes:
    """A `retry` output rule flagged the answer: ask once more with the reason; the usage of both counts."""
    call, gateway = turn.call, turn.gateway
    first = orjson.loads(content)["choices"][0]["message"].get("content") or ""
    again = f"Your answer was rejected by a check: {why}. Answer again, fixing only that."
    messages = [
        *call.body["messages"],
        {"role": "assistant", "content": first},
        {"role": "user", "content": again},
    ]
    call.body = {**call.body, "messages": messages}
    usage, call.usage = call.usage, None
    call.pieces.clear()
    call.finish.clear()
    status, retried = await chat.complete(gateway.pool, turn.plan, call, gateway.circuits)
    second: Any = call.usage  # set by the second call
    call.usage = {
        name: int((usage or {}).get(name) or 0) + int((second or {}).get(name) or 0)
        for name in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    call.attributes["keel.guardrail.retried"] = True
    return retried if status == 200 else content


async def _retrieve(runtime: Any, principal: Principal, options: Any, turn: Turn) -> None:
    """Ground the call in its knowledge bases: search, add the context message, and a `retrieval` span."""
    ref = options.get("prompt") if isinstance(options, dict) else None
    rag_prompt = (
        await runtime.service("prompts").resolve(principal, ref) if isinstance(ref, str) and ref else None
    )
    retrieval = await asyncio.to_thread(
        rag.retrieve, runtime.service("knowledge"), principal, options, turn.call.body, rag_prompt
    )
    turn.retrieval = retrieval
    turn.call.child_spans.append(
        InternalSpan(
            principal.project_id,
            "retrieval",
            retrieval.started_ns,
            retrieval.ended_ns,
            retrieval.span_attributes(),
            trace_id=turn.call.trace_id,
            parent_span_id=turn.call.span_id,
            kind="internal",
            service_name="keel-knowledge",
        )
    )


async def run_embeddings(
    runtime: Any, principal: Principal, body: dict[str, Any], attributes: dict[str, Any] | None = None
) -> tuple[Reply, chat.Call]:
    turn = await begin(runtime, principal, body, "embeddings", attributes)
    try:
        status, content = await chat.complete(turn.gateway.pool, turn.plan, turn.call, turn.gateway.circuits)
    finally:
        await turn.finish()
    return Reply(status, content), turn.call


def record(runtime: Any, call: chat.Call) -> None:
    try:
        limit = runtime.settings.trace_max_value_bytes
        rows = [chat.trace_row(call, limit), *(internal_row(span, limit) for span in call.child_spans)]
        runtime.service("tracing.writer").submit(rows, background=True)
    except KeelError as exc:
        log.warning("gateway trace not recorded: %s", exc.detail, extra={"project_id": call.project_id})
    for observer in runtime.service("gateway").observers:
        observer.called(call)


def refused(runtime: Any, principal: Principal | None, error: KeelError) -> None:
    """A call refused before it had books (auth, validation, limits, budget): the observers count it."""
    if error.code == GuardrailBlocked.code:  # blocked calls are recorded, and counted, as calls
        return
    for observer in runtime.service("gateway").observers:
        observer.refused(principal.project_id if principal else None, error.code)
