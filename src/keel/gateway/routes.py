"""The OpenAI-compatible gateway endpoints: `/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`,
`/v1/models`.

The two completion endpoints are fast routes (plain ASGI, `keel.server.fast`): they are the hot path.
"""

from typing import Any

from fastapi import APIRouter

from keel.core.errors import KeelError
from keel.gateway import chat, completions, turns
from keel.gateway.providers.local import MODELS as LOCAL_MODELS
from keel.server.deps import FastPrincipalDep, RuntimeDep, principal_from_header
from keel.server.fast import FastRequest, Reply

v1 = APIRouter(tags=["gateway"])
TRACE_HEADER = "x-keel-trace-id"  # the call's trace, so a client can attach feedback to it


@v1.get("/v1/models")
async def list_models(runtime: RuntimeDep, principal: FastPrincipalDep) -> dict[str, Any]:
    view = await turns.view(runtime, principal.project_id)
    names = sorted(view.routes) + view.registered()
    local = view.upstreams.get("local")
    if local is not None and getattr(local.adapter, "transport", None) is not None:
        names += [f"local/{model}" for model in LOCAL_MODELS]
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": 0, "owned_by": "keel"} for name in names],
    }


async def chat_completions(request: FastRequest) -> Reply:
    principal = None
    try:
        principal = await principal_from_header(request.runtime, request.header(b"authorization"))
        reply, call = await turns.run_chat(request.runtime, principal, chat.load_request(request.body))
    except KeelError as exc:
        turns.refused(request.runtime, principal, exc)
        raise
    reply.headers = {**(reply.headers or {}), TRACE_HEADER: call.trace_id}
    return reply


async def text_completions(request: FastRequest) -> Reply:
    """The legacy `/v1/completions`: a one-message chat call, answered in the `text_completion` shape."""
    principal = None
    try:
        principal = await principal_from_header(request.runtime, request.header(b"authorization"))
        body = completions.to_chat(request.body)
        reply, call = await turns.run_chat(request.runtime, principal, body, {"keel.api": "completions"})
    except KeelError as exc:
        turns.refused(request.runtime, principal, exc)
        raise
    answer = completions.reply(reply)
    answer.headers = {**(answer.headers or {}), TRACE_HEADER: call.trace_id}
    return answer


async def embeddings(request: FastRequest) -> Reply:
    principal = None
    try:
        principal = await principal_from_header(request.runtime, request.header(b"authorization"))
        body = chat.parse_embeddings_request(request.body)
        reply, _ = await turns.run_embeddings(request.runtime, principal, body)
    except KeelError as exc:
        turns.refused(request.runtime, principal, exc)
        raise
    return reply
