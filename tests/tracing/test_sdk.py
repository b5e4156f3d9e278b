"""`keel.trace` and `keel.instrument_openai()`, observed through OpenTelemetry's in-memory exporter."""

import asyncio
from collections.abc import Iterator

import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import keel
from tests.stubs.openai_stub import openai_stub


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    keel.configure_tracing(exporter=exporter)
    yield exporter
    keel.uninstrument_openai()


def finished(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    keel.flush()
    return {span.name: span for span in exporter.get_finished_spans()}


def test_decorator_nests_and_captures_io(spans: InMemorySpanExporter) -> None:
    @keel.trace(span_type="retriever")
    def retrieve(query: str) -> list[str]:
        return [f"doc about {query}"]

    @keel.trace
    def answer(question: str) -> str:
        return retrieve(question)[0].upper()

    assert answer("otters") == "DOC ABOUT OTTERS"
    done = finished(spans)
    outer = done["test_decorator_nests_and_captures_io.<locals>.answer"]
    inner = done["test_decorator_nests_and_captures_io.<locals>.retrieve"]
    assert inner.parent is not None
    assert inner.parent.span_id == outer.context.span_id
    assert inner.attributes["keel.span.type"] == "retriever"
    assert outer.attributes["input.value"] == '{"question": "otters"}'
    assert outer.attributes["output.value"] == "DOC ABOUT OTTERS"


def test_context_manager_and_exceptions(spans: InMemorySpanExporter) -> None:
    def lookup() -> None:
        with keel.trace("lookup") as span:
            span.set_user("u7")
            span.add_tags("beta")
            raise ValueError("no docs")

    with pytest.raises(ValueError, match="no docs"):
        lookup()
    lookup = finished(spans)["lookup"]
    assert lookup.status.status_code.name == "ERROR"
    assert lookup.status.description == "ValueError: no docs"
    assert lookup.attributes["user.id"] == "u7"
    assert lookup.events[0].name == "exception"


def test_async_and_generators(spans: InMemorySpanExporter) -> None:
    @keel.trace
    async def fetch(n: int) -> int:
        await asyncio.sleep(0)
        return n * 2

    @keel.trace
    def words() -> Iterator[str]:
        yield "a"
        yield "b"

    @keel.trace
    async def stream() -> object:
        for token in ("x", "y"):
            yield token

    async def consume() -> list[str]:
        return [t async for t in stream()]

    assert asyncio.run(fetch(21)) == 42
    assert list(words()) == ["a", "b"]
    assert asyncio.run(consume()) == ["x", "y"]
    done = {name.rsplit(".", 1)[-1]: span for name, span in finished(spans).items()}
    assert done["fetch"].attributes["output.value"] == "42"
    assert done["words"].attributes["output.value"] == "ab"
    assert done["stream"].attributes["output.value"] == "xy"


def test_early_generator_close_is_not_an_error(spans: InMemorySpanExporter) -> None:
    @keel.trace
    def numbers() -> Iterator[int]:
        yield from range(10)

    generator = numbers()
    next(generator)
    generator.close()
    span = next(iter(finished(spans).values()))
    assert span.status.status_code.name != "ERROR"


def test_instrument_openai_sync_and_stream(spans: InMemorySpanExporter) -> None:
    keel.instrument_openai()
    keel.instrument_openai()
    with openai_stub() as base_url:
        client = openai.OpenAI(base_url=base_url, api_key="sk-test")
        reply = client.chat.completions.create(
            model="gpt-x", messages=[{"role": "user", "content": "hi"}], temperature=0.2
        )
        assert reply.choices[0].message.content == "echo: hi"
        stream = client.chat.completions.create(
            model="gpt-s", stream=True, messages=[{"role": "user", "content": "yo there"}]
        )
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "echo: yo there "
        with pytest.raises(openai.InternalServerError):
            client.with_options(max_retries=0).chat.completions.create(model="fail", messages=[])
    done = finished(spans)
    chat = done["chat gpt-x"]
    assert chat.attributes["gen_ai.response.model"] == "gpt-x-2026"
    assert chat.attributes["gen_ai.usage.input_tokens"] == 11
    assert chat.attributes["gen_ai.usage.cache_read.input_tokens"] == 4
    assert chat.attributes["gen_ai.request.temperature"] == 0.2
    assert "echo: hi" in chat.attributes["gen_ai.output.messages"]
    streamed = done["chat gpt-s"]
    assert streamed.attributes["keel.ttft_ms"] > 0
    assert "echo: yo there" in streamed.attributes["gen_ai.output.messages"]
    assert streamed.attributes["gen_ai.usage.output_tokens"] == 3
    assert done["chat fail"].status.status_code.name == "ERROR"


def test_instrument_openai_async(spans: InMemorySpanExporter) -> None:
    keel.instrument_openai()

    async def call(base_url: str) -> str:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="sk-test")
        reply = await client.chat.completions.create(
            model="gpt-a", messages=[{"role": "user", "content": "x"}]
        )
        stream = await client.chat.completions.create(
            model="gpt-as", stream=True, messages=[{"role": "user", "content": "y"}]
        )
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        return str(reply.choices[0].message.content) + "|" + "".join(parts)

    with openai_stub() as base_url:
        assert asyncio.run(call(base_url)) == "echo: x|echo: y "
    done = finished(spans)
    assert done["chat gpt-a"].attributes["gen_ai.usage.output_tokens"] == 2
    assert "keel.ttft_ms" in done["chat gpt-as"].attributes
