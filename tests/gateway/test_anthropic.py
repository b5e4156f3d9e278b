"""An Anthropic provider behind the OpenAI shape: requests, responses, streams, tools, errors."""

import json
from collections.abc import Iterator

import openai
import pytest
from fastapi.testclient import TestClient

from tests.gateway.test_chat import sdk, traces
from tests.stubs import anthropic_stub
from tests.stubs.anthropic_stub import anthropic_stub as serve_anthropic

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.fixture
def claude(gw: TestClient) -> Iterator[TestClient]:
    anthropic_stub.SEEN.clear()
    with serve_anthropic() as url:
        body = {"name": "claude", "kind": "anthropic", "base_url": url, "api_key": "sk-ant-test"}
        assert gw.post("/api/v1/providers", json=body).status_code == 201
        yield gw


def test_chat_is_translated_both_ways(claude: TestClient) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]
    reply = sdk(claude).chat.completions.create(
        model="claude/claude-sonnet", messages=messages, max_tokens=50, stop="END", user="u9"
    )
    assert reply.choices[0].message.content == "echo: hello"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == 11
    assert reply.usage.completion_tokens == 4
    sent = anthropic_stub.SEEN[-1]
    assert sent["headers"]["x-api-key"] == "sk-ant-test"
    assert "authorization" not in sent["headers"]
    assert sent["body"]["system"] == "Be brief."
    assert sent["body"]["max_tokens"] == 50
    assert sent["body"]["stop_sequences"] == ["END"]
    assert sent["body"]["metadata"] == {"user_id": "u9"}
    assert sent["body"]["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]
    trace = traces(claude, 1)[0]
    assert trace["provider"] == "anthropic"
    assert trace["prompt_tokens"] == 11


def test_stream_is_rebuilt_as_openai_chunks(claude: TestClient) -> None:
    chunks = list(
        sdk(claude).chat.completions.create(
            model="claude/claude-sonnet",
            stream=True,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "one two"}],
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: one two "
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 4


def test_tool_calls_round_trip(claude: TestClient) -> None:
    client = sdk(claude)
    reply = client.chat.completions.create(
        model="claude/c",
        tools=TOOLS,
        tool_choice="required",
        messages=[{"role": "user", "content": "weather?"}],
    )
    call = reply.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert reply.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    sent = anthropic_stub.SEEN[-1]["body"]
    assert sent["tools"][0]["input_schema"]["properties"]["city"] == {"type": "string"}
    assert sent["tool_choice"] == {"type": "any"}
    followup = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    client.chat.completions.create(model="claude/c", messages=followup)
    sent = anthropic_stub.SEEN[-1]["body"]["messages"]
    assert sent[1]["content"][0] == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "weather",
        "input": {"city": "Paris"},
    }
    assert sent[2]["content"][0] == {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}
    streamed = list(
        client.chat.completions.create(
            model="claude/c", tools=TOOLS, stream=True, messages=[{"role": "user", "content": "weather?"}]
        )
    )
    arguments = "".join(
        c.choices[0].delta.tool_calls[0].function.arguments or ""  # type: ignore[index,union-attr]
        for c in streamed
        if c.choices and c.choices[0].delta.tool_calls
    )
    assert json.loads(arguments) == {"city": "Paris"}


def test_errors_come_back_in_openai_shape(claude: TestClient) -> None:
    claude.patch("/api/v1/providers/claude", json={"api_key": "sk-ant-wrong"})
    with pytest.raises(openai.AuthenticationError) as info:
        sdk(claude).chat.completions.create(model="claude/c", messages=[{"role": "user", "content": "x"}])
    assert "invalid x-api-key" in info.value.message
    with pytest.raises(openai.BadRequestError, match="n > 1"):
        sdk(claude).chat.completions.create(
            model="claude/c", n=2, messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.BadRequestError, match="chat completions only"):
        sdk(claude).embeddings.create(model="claude/c", input="x")
