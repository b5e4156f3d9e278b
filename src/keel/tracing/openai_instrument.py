"""`keel.instrument_openai()`: trace every chat completion made with the official `openai` client.

Wraps `Completions.create` (sync and async) so each call becomes a GenAI client span: model, messages, output,
finish reasons, token usage (cached and reasoning too) and, for streams, time to first token. Streams stay the
client's own objects behind a thin proxy; the span ends when the stream is exhausted or closed.
"""

import functools
import time
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.trace import SpanKind

from keel.tracing.sdk import SpanHandle, open_span, to_text

_REQUEST_PARAMS = {
    "temperature": "gen_ai.request.temperature",
    "max_tokens": "gen_ai.request.max_tokens",
    "top_p": "gen_ai.request.top_p",
    "seed": "gen_ai.request.seed",
}


def instrument_openai() -> None:
    """Patch the installed `openai` package; safe to call more than once."""
    from openai.resources.chat.completions import AsyncCompletions, Completions

    if getattr(Completions.create, "_keel_original", None) is None:
        Completions.create = _wrap_sync(Completions.create)  # type: ignore[method-assign]
    if getattr(AsyncCompletions.create, "_keel_original", None) is None:
        AsyncCompletions.create = _wrap_async(AsyncCompletions.create)  # type: ignore[method-assign]


def uninstrument_openai() -> None:
    from openai.resources.chat.completions import AsyncCompletions, Completions

    for cls in (Completions, AsyncCompletions):
        original = getattr(cls.create, "_keel_original", None)
        if original is not None:
            cls.create = original  # type: ignore[method-assign]


def _begin(resource: Any, kwargs: dict[str, Any]) -> SpanHandle:
    model = str(kwargs.get("model", "unknown"))
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
    }
    attributes.update(
        {key: kwargs[p] for p, key in _REQUEST_PARAMS.items() if isinstance(kwargs.get(p), int | float)}
    )
    base_url = getattr(getattr(resource, "_client", None), "base_url", None)
    if base_url is not None:
        attributes["server.address"] = urlsplit(str(base_url)).hostname or ""
    if "messages" in kwargs:
        attributes["gen_ai.input.messages"] = to_text(list(kwargs["messages"]))
    return open_span(f"chat {model}", "llm", SpanKind.CLIENT, attributes)


def _record(handle: SpanHandle, response: Any) -> None:
    handle.set_attribute("gen_ai.response.model", getattr(response, "model", None) or "")
    handle.set_attribute("gen_ai.response.id", getattr(response, "id", None) or "")
    choices = getattr(response, "choices", None) or []
    messages = [{"role": c.message.role, "content": c.message.content} for c in choices if c.message]
    handle.set_attribute("gen_ai.output.messages", to_text(messages))
    handle.set_attribute("gen_ai.response.finish_reasons", [str(c.finish_reason) for c in choices])
    _usage(handle, getattr(response, "usage", None))


def _usage(handle: SpanHandle, usage: Any) -> None:
    if usage is None:
        return
    handle.set_usage(usage.prompt_tokens, usage.completion_tokens)
    cached = getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", None)
    reasoning = getattr(getattr(usage, "completion_tokens_details", None), "reasoning_tokens", None)
    if cached is not None:
        handle.set_attribute("gen_ai.usage.cache_read.input_tokens", cached)
    if reasoning is not None:
        handle.set_attribute("gen_ai.usage.reasoning.output_tokens", reasoning)


class _StreamRecorder:
    def __init__(self, handle: SpanHandle) -> None:
        self.handle = handle
        self.started = time.perf_counter()
        self.first: float | None = None
        self.parts: list[str] = []
        self.finish: list[str] = []
        self.done = False

    def chunk(self, chunk: Any) -> None:
        if self.first is None:
            self.first = time.perf_counter()
            self.handle.set_attribute("keel.ttft_ms", (self.first - self.started) * 1000)
        for choice in getattr(chunk, "choices", None) or []:
            if choice.delta and choice.delta.content:
                self.parts.append(choice.delta.content)
            if choice.finish_reason:
                self.finish.append(str(choice.finish_reason))
        if getattr(chunk, "model", None):
            self.handle.set_attribute("gen_ai.response.model", chunk.model)
        _usage(self.handle, getattr(chunk, "usage", None))

    def end(self, error: BaseException | None = None) -> None:
        if self.done:
            return
        self.done = True
        output = [{"role": "assistant", "content": "".join(self.parts)}]
        self.handle.set_attribute("gen_ai.output.messages", to_text(output))
        self.handle.set_attribute("gen_ai.response.finish_reasons", self.finish)
        if error is not None:
            self.handle.record_error(error)
        self.handle.end()


class _SyncStream:
    def __init__(self, stream: Any, recorder: _StreamRecorder) -> None:
        self._stream, self._recorder = stream, recorder

    def __iter__(self) -> Any:
        try:
            for chunk in self._stream:
                self._recorder.chunk(chunk)
                yield chunk
        except Exception as exc:
            self._recorder.end(exc)
            raise
        finally:
            self._recorder.end()

    def __enter__(self) -> "_SyncStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._stream.close()
        self._recorder.end()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _AsyncStream:
    def __init__(self, stream: Any, recorder: _StreamRecorder) -> None:
        self._stream, self._recorder = stream, recorder

    async def __aiter__(self) -> Any:
        try:
            async for chunk in self._stream:
                self._recorder.chunk(chunk)
                yield chunk
        except Exception as exc:
            self._recorder.end(exc)
            raise
        finally:
            self._recorder.end()

    async def __aenter__(self) -> "_AsyncStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self._stream.close()
        self._recorder.end()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _settle(handle: SpanHandle, response: Any, stream_proxy: Any) -> Any:
    """A finished call ends its span now; a stream is proxied and ends its span when it is exhausted."""
    if stream_proxy is not None:
        return stream_proxy(response, _StreamRecorder(handle))
    _record(handle, response)
    handle.end()
    return response


def _wrap_sync(original: Any) -> Any:
    @functools.wraps(original)
    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        handle = _begin(self, kwargs)
        try:
            response = original(self, *args, **kwargs)
        except BaseException as exc:
            handle.record_error(exc)
            handle.end()
            raise
        return _settle(handle, response, _SyncStream if kwargs.get("stream") else None)

    create._keel_original = original  # type: ignore[attr-defined]
    return create


def _wrap_async(original: Any) -> Any:
    @functools.wraps(original)
    async def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        handle = _begin(self, kwargs)
        try:
            response = await original(self, *args, **kwargs)
        except BaseException as exc:
            handle.record_error(exc)
            handle.end()
            raise
        return _settle(handle, response, _AsyncStream if kwargs.get("stream") else None)

    create._keel_original = original  # type: ignore[attr-defined]
    return create
