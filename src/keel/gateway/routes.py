"""The OpenAI-compatible gateway endpoints: `/v1/chat/completions`, `/v1/embeddings`, `/v1/models`.

The two completion endpoints are fast routes (plain ASGI, `keel.server.fast`): they are the hot path.
"""

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from keel.core.auth import Principal, Role
from keel.core.errors import KeelError
from keel.gateway import chat, limits
from keel.gateway.cache import cache_key
from keel.gateway.config import ProjectGateway, RoutePlan
from keel.gateway.providers.local import MODELS as LOCAL_MODELS
from keel.gateway.runtime import Gateway
from keel.server.deps import FastPrincipalDep, RuntimeDep, principal_from_header
from keel.server.fast import FastRequest, Reply

log = logging.getLogger("keel.gateway")

v1 = APIRouter(tags=["gateway"])


async def _view(runtime: Any, project_id: str) -> ProjectGateway:
    gateway: Gateway = runtime.service("gateway")
    return await gateway.config.view(project_id)


@v1.get("/v1/models")
async def list_models(runtime: RuntimeDep, principal: FastPrincipalDep) -> dict[str, Any]:
    view = await _view(runtime, principal.project_id)
    names = sorted(view.routes)
    local = view.upstreams.get("local")
    if local is not None and getattr(local.adapter, "transport", None) is not None:
        names += [f"local/{model}" for model in LOCAL_MODELS]
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": 0, "owned_by": "keel"} for name in names],
    }


@dataclass
class Turn:
    """One gateway call in flight: what it was admitted with, and how to close its books."""

    runtime: Any
    gateway: Gateway
    view: ProjectGateway
    plan: RoutePlan
    guard: limits.Guard
    call: chat.Call

    async def finish(self) -> None:
        """Price the call, trace it and settle its budget reservation, whatever happened."""
        self.call.count_tokens_if_missing()
        self.call.price(self.view.prices)
        _record(self.runtime, self.call)
        await limits.settle(
            self.gateway.sessions, self.gateway.windows, self.guard, self.call.usage, self.call.cost_micros
        )


async def _begin(runtime: Any, principal: Principal, body: dict[str, Any], operation: str) -> Turn:
    principal.require(Role.member)
    gateway: Gateway = runtime.service("gateway")
    view = await _view(runtime, principal.project_id)
    plan = view.plan(body["model"])
    guard = await limits.admit(gateway.sessions, gateway.windows, view, principal, plan, body)
    return Turn(
        runtime, gateway, view, plan, guard, chat.Call(principal.project_id, plan.name, body, operation)
    )


async def chat_completions(request: FastRequest) -> Reply:
    runtime = request.runtime
    principal = await principal_from_header(runtime, request.header(b"authorization"))
    body = chat.load_request(request.body)
    prompt = None
    if "prompt" in body or "variables" in body:
        principal.require(Role.member)
        prompt = await runtime.service("prompts").apply(principal, body)
    turn = await _begin(runtime, principal, chat.check_chat(body), "chat")
    if prompt is not None:
        turn.call.prompt = (prompt.name, prompt.version)
    gateway, plan, call = turn.gateway, turn.plan, turn.call
    if not body.get("stream"):
        key = cache_key(principal.project_id, plan.name, body) if plan.cache_ttl_s else None
        cached = gateway.cache.get(key) if key else None
        try:
            if cached is not None:
                call.cache_hit = True
                status, content = 200, cached
                chat.account_cached(call, cached)
            else:
                status, content = await chat.complete(gateway.pool, plan, call)
                if key and status == 200:
                    gateway.cache.put(key, content, plan.cache_ttl_s or 0)
        finally:
            await turn.finish()
        headers = {"x-keel-cache": "hit" if call.cache_hit else "miss"} if key else None
        return Reply(status, content, headers=headers)
    try:
        status, chunks = await chat.open_stream(gateway.pool, plan, call)
    except Exception:
        await turn.finish()
        raise

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            await turn.finish()

    return Reply(status, relay(), "text/event-stream" if status == 200 else "application/json")


async def embeddings(request: FastRequest) -> Reply:
    principal = await principal_from_header(request.runtime, request.header(b"authorization"))
    body = chat.parse_embeddings_request(request.body)
    turn = await _begin(request.runtime, principal, body, "embeddings")
    try:
        status, content = await chat.complete(turn.gateway.pool, turn.plan, turn.call)
    finally:
        await turn.finish()
    return Reply(status, content)


def _record(runtime: Any, call: chat.Call) -> None:
    try:
        runtime.service("tracing.writer").submit(
            [chat.trace_row(call, runtime.settings.trace_max_value_bytes)], background=True
        )
    except KeelError as exc:
        log.warning("gateway trace not recorded: %s", exc.detail, extra={"project_id": call.project_id})
