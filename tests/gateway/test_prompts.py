"""A chat completion may name a registry prompt: the gateway renders it, applies its parameters, traces it."""

from typing import Any

from fastapi.testclient import TestClient

from tests.gateway.test_chat import sdk, traces
from tests.stubs.openai_stub import SEEN

GREET = {
    "name": "greet",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello to {{ name }}."},
    ],
    "model": "stub/m",
    "params": {"temperature": 0.3, "max_tokens": 7},
    "labels": ["production"],
}


def chat(gw: TestClient, **body: Any) -> Any:
    return gw.post("/v1/chat/completions", json=body)


def test_prompt_is_rendered_with_its_parameters_and_traced(gw: TestClient) -> None:
    assert gw.post("/api/v1/prompts", json=GREET).status_code == 201
    reply = chat(gw, prompt="greet@production", variables={"name": "Ada"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"] == "echo: Say hello to Ada."
    sent = SEEN[-1]["body"]
    assert sent["model"] == "m"
    assert sent["temperature"] == 0.3
    assert sent["max_tokens"] == 7
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert "prompt" not in sent
    assert "variables" not in sent
    trace = traces(gw, 1)[0]
    assert trace["prompt_version"] == "greet@1"
    span = gw.get(f"/api/v1/traces/{trace['trace_id']}").json()["spans"][0]
    assert span["attributes"]["keel.prompt.name"] == "greet"


def test_request_fields_override_the_prompt_and_history_follows_it(gw: TestClient) -> None:
    gw.post("/api/v1/prompts", json=GREET)
    history = [{"role": "assistant", "content": "Hello Ada!"}, {"role": "user", "content": "again"}]
    reply = sdk(gw).chat.completions.create(
        model="stub/other",
        messages=history,  # type: ignore[arg-type]
        temperature=0.9,
        extra_body={"prompt": "greet", "variables": {"name": "Ada"}},
    )
    assert reply.choices[0].message.content == "echo: again"
    sent = SEEN[-1]["body"]
    assert sent["model"] == "other"
    assert sent["temperature"] == 0.9
    assert sent["max_tokens"] == 7
    assert [m["content"] for m in sent["messages"]] == [
        "Be brief.",
        "Say hello to Ada.",
        "Hello Ada!",
        "again",
    ]


def test_moving_a_label_takes_effect_at_once_and_versions_compare(gw: TestClient) -> None:
    gw.post("/api/v1/prompts", json=GREET)
    gw.post("/api/v1/prompts", json={**GREET, "labels": [], "params": {"temperature": 0}})
    assert chat(gw, prompt="greet@production", variables={"name": "A"}).status_code == 200
    assert gw.put("/api/v1/prompts/greet/labels/production", json={"version": 2}).status_code == 200
    assert chat(gw, prompt="greet@production", variables={"name": "B"}).status_code == 200
    assert SEEN[-1]["body"]["temperature"] == 0
    traces(gw, 2)
    groups = gw.get("/api/v1/traces/aggregates", params={"bucket": "1d", "group_by": "prompt_version"})
    counts = {row["group"]: row["count"] for row in groups.json()["items"]}
    assert counts == {"greet@1": 1, "greet@2": 1}
    only_two = gw.get("/api/v1/traces", params={"prompt_version": "greet@2"}).json()["items"]
    assert len(only_two) == 1


def test_prompt_errors_are_openai_errors(gw: TestClient) -> None:
    gw.post("/api/v1/prompts", json={**GREET, "model": None})
    unknown = chat(gw, prompt="nope", model="stub/m")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "prompt 'nope' not found"
    missing = chat(gw, prompt="greet", model="stub/m")
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "variables"
    assert "missing variables: name" in missing.json()["error"]["message"]
    no_model = chat(gw, prompt="greet", variables={"name": "x"})
    assert no_model.status_code == 400
    assert "does not name one" in no_model.json()["error"]["message"]
    orphan = chat(gw, model="stub/m", variables={"name": "x"}, messages=[{"role": "user", "content": "x"}])
    assert orphan.status_code == 400
    bad = chat(gw, prompt="greet", variables=["x"], model="stub/m")
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "variables"
