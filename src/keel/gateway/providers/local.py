"""The bundled local models as a provider: `local/smollm2-135m-instruct` and `local/all-minilm-l6-v2`.

The local runtime answers in OpenAI's wire format in-process (a `transport` instead of HTTP), so routing,
fallbacks, tracing, prices, budgets and the cache treat it like any other provider. Whatever the runtime
cannot do (load a model or an adapter, an incompatible library, out of memory) answers 503
`local_unavailable` with the cause and the fix; a stream is opened only once its first piece exists, so a
failure there is a 503 too, not a broken 200.
"""

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import orjson

from keel.gateway.providers.base import Adapter, ProviderKind
from keel.local.chat_model import MODEL_NAME as CHAT_MODEL
from keel.local.chat_model import ContextTooLong, Generation
from keel.local.embedder import MODEL_NAME as EMBEDDING_MODEL
from keel.local.loading import explain

MODELS = (CHAT_MODEL, EMBEDDING_MODEL)
log = logging.getLogger("keel.local")


def _unavailable(exc: Exception, doing: str) -> "LocalResponse":
    reason = explain(exc, doing)
    log.warning("local runtime: %s", reason, exc_info=exc if reason is not exc else None)
    return _error(503, str(reason), "local_unavailable")


def _error(status: int, message: str, code: str) -> "LocalResponse":
    body = {
        "error": {
            "message": message,
            "type": "invalid_request_error" if status < 500 else "api_error",
            "param": "model" if status == 404 else None,
            "code": code,
        }
    }
    return LocalResponse(status, orjson.dumps(body))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


class LocalResponse:
    def __init__(
        self,
        status: int,
        content: bytes = b"",
        lines: AsyncIterator[str] | None = None,
        pieces: Iterator[Any] | None = None,
    ) -> None:
        self.status_code = status
        self.content = content
        self._lines = lines
        self._pieces = pieces  # the generation behind a stream: closed with the reply to free the model

    async def aread(self) -> bytes:
        return self.content

    async def aiter_line_batches(self) -> AsyncIterator[list[str]]:
        if self._lines is not None:
            async for line in self._lines:
                yield [line]

    async def aclose(self) -> None:
        if self._pieces is not None:
            await anyio.to_thread.run_sync(_close_quietly, self._pieces)


def _close_quietly(pieces: Iterator[Any]) -> None:
    # ValueError: still running in another thread; it finishes and releases the model itself.
    with contextlib.suppress(ValueError):
        getattr(pieces, "close", lambda: None)()


@dataclass(frozen=True)
class ServedAdapter:
    """A registered fine-tune: its base model and the folder of its LoRA adapter."""

    base_model: str
    path: Path


class LocalTransport:
    """Answers for the bundled models, and for one project's registered LoRA versions (`adapters`)."""

    def __init__(self, models: Any, adapters: dict[str, ServedAdapter] | None = None) -> None:
        self.models = models
        self.adapters = adapters or {}

    async def post(self, path: str, body: bytes, stream: bool) -> LocalResponse:
        request = orjson.loads(body)
        if not self.models.enabled:
            return _error(
                503,
                "local models are not installed or are switched off (KEEL_LOCAL_MODELS)",
                "local_unavailable",
            )
        if self.models.error:
            return _error(503, f"local models failed to load: {self.models.error}", "local_unavailable")
        if path == "/embeddings":
            return await self._embeddings(request)
        served = self.adapters.get(request["model"])
        if served is None and request["model"] != CHAT_MODEL:
            return _error(
                404,
                f"The model `local/{request['model']}` does not exist; local chat model: local/{CHAT_MODEL}",
                "model_not_found",
            )
        try:
            chat = self.models.chat_for(served.base_model) if served else self.models.chat
        except (OSError, ValueError) as exc:
            return _error(
                503, f"the base model of {request['model']} cannot be loaded: {exc}", "local_unavailable"
            )
        adapter = served.path if served else None
        if (request.get("n") or 1) != 1:
            return _error(400, "the local chat model returns one choice; n must be 1", "invalid_input")
        messages = [
            {"role": m["role"] if m["role"] != "developer" else "system", "content": _text(m.get("content"))}
            for m in request["messages"]
        ]
        created, ident = int(time.time()), f"chatcmpl-{uuid.uuid4().hex}"
        base = {"id": ident, "created": created, "model": request["model"]}
        doing = f"answering with {request['model']}"
        if not stream:
            try:
                result: Generation = await anyio.to_thread.run_sync(chat.generate, messages, request, adapter)
            except ContextTooLong as exc:
                return _error(400, str(exc), "context_length_exceeded")
            except Exception as exc:
                return _unavailable(exc, doing)
            return LocalResponse(
                200,
                orjson.dumps(
                    {
                        **base,
                        "object": "chat.completion",
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": result.finish_reason,
                                "message": {"role": "assistant", "content": result.text},
                            }
                        ],
                        "usage": _usage(result),
                    }
                ),
            )
        pieces = chat.stream(messages, request, adapter)
        done = object()
        try:
            first = await anyio.to_thread.run_sync(next, pieces, done)
        except ContextTooLong as exc:
            return _error(400, str(exc), "context_length_exceeded")
        except Exception as exc:
            return _unavailable(exc, doing)
        return LocalResponse(200, lines=self._stream(base, first, pieces, done), pieces=pieces)

    async def _stream(
        self, base: dict[str, Any], first: Any, pieces: Any, done: object
    ) -> AsyncIterator[str]:
        chunk = {**base, "object": "chat.completion.chunk"}
        piece = first
        while piece is not done:
            if isinstance(piece, Generation):
                finish = {
                    **chunk,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": piece.finish_reason}],
                }
                yield "data: " + orjson.dumps(finish).decode()
                yield ""
                yield "data: " + orjson.dumps({**chunk, "choices": [], "usage": _usage(piece)}).decode()
                yield ""
            else:
                choice = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                delta = {**chunk, "choices": [choice]}
                yield "data: " + orjson.dumps(delta).decode()
                yield ""
            piece = await anyio.to_thread.run_sync(next, pieces, done)
        yield "data: [DONE]"
        yield ""

    async def _embeddings(self, request: dict[str, Any]) -> LocalResponse:
        if request["model"] != EMBEDDING_MODEL:
            return _error(
                404,
                f"The model `local/{request['model']}` does not exist; local embedding model: "
                f"local/{EMBEDDING_MODEL}",
                "model_not_found",
            )
        given = request["input"]
        texts = [given] if isinstance(given, str) else given
        if not all(isinstance(t, str) for t in texts):
            return _error(400, "the local embedding model takes text, not token arrays", "invalid_input")
        try:
            vectors, tokens = await anyio.to_thread.run_sync(self.models.embedder.embed, texts)
        except Exception as exc:
            return _unavailable(exc, f"embedding with {EMBEDDING_MODEL}")
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        return LocalResponse(
            200,
            orjson.dumps(
                {
                    "object": "list",
                    "data": data,
                    "model": EMBEDDING_MODEL,
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                }
            ),
        )


def _usage(result: Generation) -> dict[str, int]:
    return {
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "total_tokens": result.prompt_tokens + result.completion_tokens,
    }


class LocalAdapter(Adapter):
    def __init__(self, transport: LocalTransport | None = None) -> None:
        self.transport = transport

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {}


KIND = ProviderKind(
    name="local",
    description="The bundled offline models: local/smollm2-135m-instruct (chat), local/all-minilm-l6-v2",
    needs_base_url=False,
    adapter=LocalAdapter(),
)
