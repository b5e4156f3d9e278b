"""`/v1/completions` with the real openai SDK's `client.completions.create`: a text answer, a stream of text
chunks with usage, traced like a chat call; bad prompts are 400s naming `prompt`."""

import openai
import pytest
from fastapi.testclient import TestClient

from tests.gateway.test_chat import sdk, traces
from tests.stubs.openai_stub import SEEN


def test_a_text_completion_is_a_traced_chat_call(gw: TestClient) -> None:
    raw = sdk(gw).completions.with_raw_response.create(
        model="stub/gpt-3.5-turbo-instruct", prompt="hello there"
    )
    answer = raw.parse()
    assert answer.object == "text_completion"
    assert answer.choices[0].text == "echo: hello there"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None
    assert answer.usage.prompt_tokens == 11
    assert SEEN[-1]["body"]["messages"] == [{"role": "user", "content": "hello there"}]
    trace = traces(gw, 1)[0]
    assert raw.headers["x-keel-trace-id"] == trace["trace_id"]
    assert trace["prompt_tokens"] == 11
    assert "hello there" in trace["input"]


def test_a_streamed_text_completion(gw: TestClient) -> None:
    stream = sdk(gw).completions.create(
        model="stub/m", prompt="one two three", stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text.strip() == "echo: one two three"
    assert all(c.object == "text_completion" for c in chunks)
    assert chunks[-1].usage is not None


@pytest.mark.parametrize(
    ("prompt", "message"),
    [("", "non-empty string"), (["a", "b"], "one prompt per request"), ([1, 2], "string")],
)
def test_bad_prompts_are_bad_requests(gw: TestClient, prompt: object, message: str) -> None:
    with pytest.raises(openai.BadRequestError, match=message) as raised:
        sdk(gw).completions.create(model="stub/m", prompt=prompt)  # type: ignore[arg-type]
    assert raised.value.body["param"] == "prompt"  # type: ignore[index]
