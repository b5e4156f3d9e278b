"""`POST /v1/completions`: the legacy text-completions API, for tools that still speak it.

A request becomes a one-message chat call (the prompt as the user's message) through the same turn as
`/v1/chat/completions`, so it is limited, guarded, routed, cached, priced and traced the same way; the answer
(or each streamed chunk) is turned back into the `text_completion` shape.
"""

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

from keel.core.errors import InvalidInput
from keel.gateway import chat
from keel.server.fast import Reply

PASSED = (
    "model", "max_tokens", "temperature", "top_p", "stop", "user", "seed", "stream", "stream_options",
    "presence_penalty", "frequency_penalty", "logit_bias", "n",
)  # fmt: skip


def to_chat(raw: bytes) -> dict[str, Any]:
    body = chat.load_request(raw)
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if isinstance(prompt, list):
        raise InvalidInput(
            "send one prompt per request (a string); batches of prompts are not supported", param="prompt"
        )
    if not isinstance(prompt, str) or not prompt:
        raise InvalidInput("`prompt` is required and must be a non-empty string", param="prompt")
    for name in ("suffix", "echo", "best_of", "logprobs"):
        if body.get(name) not in (None, False, 1, 0):
            raise InvalidInput(f"`{name}` is not supported by Keel's completions endpoint", param=name)
    converted = {k: body[k] for k in PASSED if k in body}
    converted["messages"] = [{"role": "user", "content": prompt}]
    return converted


def _choices(choices: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [
        {
            "text": (c.get(key) or {}).get("content") or "",
            "index": c.get("index", 0),
            "logprobs": None,
            "finish_reason": c.get("finish_reason"),
        }
        for c in choices
    ]


def from_chat(content: bytes) -> bytes:
    payload = orjson.loads(content)
    if "choices" not in payload:
        return content  # an error body: already in the provider's shape
    answer = {
        "id": str(payload.get("id", f"cmpl-{time.time_ns():x}")).replace("chatcmpl", "cmpl"),
        "object": "text_completion",
        "created": payload.get("created", int(time.time())),
        "model": payload.get("model", ""),
        "choices": _choices(payload["choices"], "message"),
    }
    if payload.get("usage") is not None:
        answer["usage"] = payload["usage"]
    return orjson.dumps(answer)


def _event(data: bytes) -> bytes:
    if data.strip() == b"[DONE]":
        return b"data: [DONE]\n\n"
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return b"data: " + data + b"\n\n"
    if "choices" not in payload:
        return b"data: " + data + b"\n\n"  # an error event
    chunk = {
        "id": str(payload.get("id", "")).replace("chatcmpl", "cmpl"),
        "object": "text_completion",
        "created": payload.get("created", int(time.time())),
        "model": payload.get("model", ""),
        "choices": _choices(payload["choices"], "delta"),
    }
    if payload.get("usage") is not None:
        chunk["usage"] = payload["usage"]
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


async def from_chat_stream(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Chat-completion SSE events, however the bytes were split, as text-completion events."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        *events, pending = pending.split(b"\n\n")
        out = b"".join(_event(e[6:]) for e in events if e.startswith(b"data: "))
        if out:
            yield out
    if pending.startswith(b"data: "):
        yield _event(pending[6:])


def reply(answer: Reply) -> Reply:
    if isinstance(answer.body, bytes):
        return Reply(answer.status, from_chat(answer.body), answer.media_type, answer.headers)
    return Reply(answer.status, from_chat_stream(answer.body), answer.media_type, answer.headers)
