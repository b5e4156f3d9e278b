"""`keel.trace`: trace your own code as OpenTelemetry spans that Keel understands.

Built on the OpenTelemetry SDK with Keel's own tracer provider (the global one is left to the application),
exporting OTLP/HTTP protobuf to `KEEL_URL/v1/traces` with `KEEL_API_KEY`. Spans nest through the standard
OpenTelemetry context, so they also nest with spans from any other OpenTelemetry instrumentation.

    @keel.trace                       # sync, async, generator and async-generator functions
    def answer(question): ...

    with keel.trace("retrieve", span_type="retriever") as span:
        span.set_output(docs)
"""

import functools
import inspect
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar, cast

from opentelemetry import trace as otel
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from keel.client.settings import ClientSettings

F = TypeVar("F", bound=Callable[..., Any])
MAX_CAPTURE_CHARS = 32_000
MAX_GENERATOR_ITEMS = 1000


class _Tracing:
    def __init__(self) -> None:
        self.provider: TracerProvider | None = None
        self.lock = threading.Lock()

    def tracer(self) -> otel.Tracer:
        if self.provider is None:
            configure()
        assert self.provider is not None
        return self.provider.get_tracer("keel")


_state = _Tracing()


def configure(
    url: str | None = None,
    api_key: str | None = None,
    *,
    service_name: str = "keel-app",
    exporter: SpanExporter | None = None,
) -> TracerProvider:
    """Send spans to Keel. Called on first use with KEEL_URL/KEEL_API_KEY; call it yourself to choose."""
    settings = ClientSettings()
    if exporter is None:
        key = api_key or (settings.api_key.get_secret_value() if settings.api_key else "")
        endpoint = (url or settings.url).rstrip("/") + "/v1/traces"
        exporter = OTLPSpanExporter(endpoint=endpoint, headers={"Authorization": f"Bearer {key}"})
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    with _state.lock:
        previous, _state.provider = _state.provider, provider
    if previous is not None:
        previous.shutdown()
    return provider


def use_client(url: str, api_key: str | None) -> None:
    """Export to this server unless tracing was configured already (the SDK's experiments call this)."""
    with _state.lock:
        configured = _state.provider is not None
    if not configured:
        configure(url, api_key)


def flush(timeout_millis: int = 10_000) -> bool:
    """Export every finished span now; returns False if the export timed out."""
    return _state.provider.force_flush(timeout_millis) if _state.provider else True


def to_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=repr, ensure_ascii=False)
    return text if len(text) <= MAX_CAPTURE_CHARS else text[:MAX_CAPTURE_CHARS] + "…[truncated]"


class SpanHandle:
    """What `with keel.trace(...) as span` gives you: setters for Keel's first-class fields."""

    def __init__(self, span: Span) -> None:
        self.span = span

    def set_input(self, value: Any) -> None:
        self.span.set_attribute("input.value", to_text(value))

    def set_output(self, value: Any) -> None:
        self.span.set_attribute("output.value", to_text(value))

    def set_attribute(self, key: str, value: Any) -> None:
        self.span.set_attribute(key, value)

    def set_model(self, model: str, provider: str | None = None) -> None:
        self.span.set_attribute("gen_ai.request.model", model)
        if provider:
            self.span.set_attribute("gen_ai.provider.name", provider)

    def set_usage(
        self,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        cost_usd: Decimal | str | None = None,
    ) -> None:
        if prompt_tokens is not None:
            self.span.set_attribute("gen_ai.usage.input_tokens", prompt_tokens)
        if completion_tokens is not None:
            self.span.set_attribute("gen_ai.usage.output_tokens", completion_tokens)
        if cost_usd is not None:
            self.span.set_attribute("keel.cost.usd", str(cost_usd))

    def set_user(self, user_id: str) -> None:
        self.span.set_attribute("user.id", user_id)

    def set_session(self, session_id: str) -> None:
        self.span.set_attribute("session.id", session_id)

    def add_tags(self, *tags: str) -> None:
        self.span.set_attribute("keel.tags", list(tags))

    def end(self) -> None:
        self.span.end()

    def record_error(self, exc: BaseException) -> None:
        self.span.record_exception(exc)
        self.span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))


def open_span(
    name: str,
    span_type: str | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: dict[str, Any] | None = None,
) -> SpanHandle:
    """A child of the current span that is not made current itself (for work that outlives a call, like a
    stream); call `handle.end()` when it is done."""
    span = _state.tracer().start_span(name, kind=kind, attributes=attributes)
    if span_type:
        span.set_attribute("keel.span.type", span_type)
    return SpanHandle(span)


@contextmanager
def start_span(
    name: str,
    span_type: str | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: dict[str, Any] | None = None,
) -> Iterator[SpanHandle]:
    with _state.tracer().start_as_current_span(
        name, kind=kind, record_exception=False, set_status_on_exception=False
    ) as span:
        handle = SpanHandle(span)
        if span_type:
            span.set_attribute("keel.span.type", span_type)
        for key, value in (attributes or {}).items():
            span.set_attribute(key, value)
        try:
            yield handle
        except GeneratorExit:
            raise  # the caller stopped iterating early: not an error
        except BaseException as exc:
            handle.record_error(exc)
            raise


class _Block:
    def __init__(
        self, name: str | None, span_type: str | None, capture: bool, attributes: dict[str, Any] | None
    ) -> None:
        self.name, self.span_type, self.capture, self.attributes = name, span_type, capture, attributes
        self._active: Any = None

    def __enter__(self) -> SpanHandle:
        self._active = start_span(self.name or "span", self.span_type, attributes=self.attributes)
        return cast(SpanHandle, self._active.__enter__())

    def __exit__(self, *exc: Any) -> bool | None:
        return cast(bool | None, self._active.__exit__(*exc))

    def __call__(self, func: F) -> F:
        name = self.name or func.__qualname__
        signature = inspect.signature(func)

        def opened() -> Any:
            return start_span(name, self.span_type, attributes=self.attributes)

        def capture_input(handle: SpanHandle, args: Any, kwargs: Any) -> None:
            if self.capture:
                bound = signature.bind_partial(*args, **kwargs)
                handle.set_input({k: v for k, v in bound.arguments.items() if k not in ("self", "cls")})

        if inspect.isasyncgenfunction(func):

            @functools.wraps(func)
            async def agen_wrapper(*args: Any, **kwargs: Any) -> Any:
                with opened() as handle:
                    capture_input(handle, args, kwargs)
                    items: list[Any] = []
                    async for item in func(*args, **kwargs):
                        if len(items) < MAX_GENERATOR_ITEMS:
                            items.append(item)
                        yield item
                    if self.capture:
                        handle.set_output(_joined(items))

            return cast(F, agen_wrapper)

        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
                with opened() as handle:
                    capture_input(handle, args, kwargs)
                    items: list[Any] = []
                    for item in func(*args, **kwargs):
                        if len(items) < MAX_GENERATOR_ITEMS:
                            items.append(item)
                        yield item
                    if self.capture:
                        handle.set_output(_joined(items))

            return cast(F, gen_wrapper)

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with opened() as handle:
                    capture_input(handle, args, kwargs)
                    result = await func(*args, **kwargs)
                    if self.capture:
                        handle.set_output(result)
                    return result

            return cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with opened() as handle:
                capture_input(handle, args, kwargs)
                result = func(*args, **kwargs)
                if self.capture:
                    handle.set_output(result)
                return result

        return cast(F, wrapper)


def _joined(items: list[Any]) -> Any:
    return "".join(items) if items and all(isinstance(i, str) for i in items) else items


def trace(
    target: Any = None,
    /,
    *,
    name: str | None = None,
    span_type: str | None = None,
    capture: bool = True,
    attributes: dict[str, Any] | None = None,
) -> Any:
    """Decorator (`@trace`, `@trace(name=...)`) or context manager (`with trace("step") as span`)."""
    if callable(target):
        return _Block(name, span_type, capture, attributes)(target)
    return _Block(target or name, span_type, capture, attributes)
