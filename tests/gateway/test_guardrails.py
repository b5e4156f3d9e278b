"""Guardrail policies at the gateway, through the openai SDK against the stub upstream (which records what
it received): input redaction before the upstream sees the text, input blocks, output redaction (also on a
held-back stream), output refusals, the verdicts on traces, and policies refused or protected as they
should be."""

import json
from typing import Any

import openai
import pytest
from fastapi.testclient import TestClient

from keel.plugins.hookspecs import hookimpl
from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer
from tests.gateway.test_chat import sdk, traces
from tests.stubs.openai_stub import SEEN


def policy(gw: TestClient, name: str, **stages: Any) -> None:
    reply = gw.post(
        "/api/v1/guardrails", json={"name": name, **stages, "refusal": "Sorry, I cannot answer that."}
    )
    assert reply.status_code == 200, reply.text


def route(gw: TestClient, name: str, guardrails: str | None) -> None:
    body = {"name": name, "targets": [{"provider": "stub", "model": "m"}], "guardrails": guardrails}
    reply = gw.post("/api/v1/routes", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["guardrails"] == guardrails


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_input_is_redacted_before_the_upstream_and_secrets_are_blocked(gw: TestClient) -> None:
    policy(gw, "safe", input=[{"check": "pii", "action": "redact"}, {"check": "secrets", "action": "block"}])
    route(gw, "guarded", "safe")
    SEEN.clear()
    reply = sdk(gw).chat.completions.create(model="guarded", messages=ask("my card is 4111 1111 1111 1111"))
    assert SEEN[-1]["body"]["messages"][0]["content"] == "my card is [CREDIT_CARD]"  # what the upstream got
    assert reply.choices[0].message.content == "echo: my card is [CREDIT_CARD]"

    with pytest.raises(openai.BadRequestError) as info:
        sdk(gw).chat.completions.create(model="guarded", messages=ask("use AKIAIOSFODNN7EXAMPLE please"))
    assert info.value.code == "guardrail_blocked"
    assert "guardrail policy 'safe': secrets" in info.value.message
    assert len(SEEN) == 1  # the blocked call never reached the upstream

    blocked, passed = traces(gw, 2)[:2]
    assert blocked["status"] == "error"
    spans = gw.get(f"/api/v1/traces/{passed['trace_id']}").json()["spans"][0]
    assert spans["attributes"]["keel.guardrails"] == ["input pii redact"]
    assert spans["children"][0]["name"] == "guardrail input"
    assert "4111" not in str(spans)  # the trace keeps the redacted text only


def test_output_is_redacted_refused_and_held_back_on_streams(gw: TestClient) -> None:
    policy(gw, "clean-out", output=[{"check": "pii", "action": "redact"}])
    route(gw, "masked", "clean-out")
    text = "write to jane@example.com"
    reply = sdk(gw).chat.completions.create(model="masked", messages=ask(text))
    assert SEEN[-1]["body"]["messages"][0]["content"] == text  # input rules: none
    assert reply.choices[0].message.content == "echo: write to [EMAIL_ADDRESS]"

    stream = sdk(gw).chat.completions.create(model="masked", messages=ask(text), stream=True)
    chunks = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert "".join(chunks).rstrip() == "echo: write to [EMAIL_ADDRESS]"  # the stub streams word by word
    assert "jane" not in "".join(chunks)

    policy(gw, "no-echo", output=[{"check": "deny_terms", "action": "block", "params": {"terms": ["echo"]}}])
    route(gw, "refusing", "no-echo")
    refused = sdk(gw).chat.completions.create(model="refusing", messages=ask("hi"))
    assert refused.choices[0].message.content == "Sorry, I cannot answer that."
    assert refused.choices[0].finish_reason == "content_filter"
    unguarded = sdk(gw).chat.completions.create(model="stub/m", messages=ask("hi"))
    assert unguarded.choices[0].message.content == "echo: hi"  # no route, no policy


def test_policies_are_validated_listed_and_protected_while_in_use(gw: TestClient) -> None:
    bad = [
        ({"name": "p", "input": [{"check": "telepathy"}]}, "input[0].check"),
        ({"name": "p", "input": [{"check": "regex", "params": {"pattern": "("}}]}, "input[0].params.pattern"),
        ({"name": "p", "output": [{"check": "pii", "action": "retry-forever"}]}, "action"),
        ({"name": "checks"}, "name"),
    ]
    for body, param in bad:
        reply = gw.post("/api/v1/guardrails", json=body)
        assert reply.status_code == 422, (body, reply.text)
        assert param in reply.text
    assert gw.get("/api/v1/guardrails").json()["items"] == []  # nothing half-saved
    missing = gw.post(
        "/api/v1/routes",
        json={"name": "r", "targets": [{"provider": "stub", "model": "m"}], "guardrails": "nope"},
    )
    assert missing.status_code == 422
    assert "guardrail policy 'nope'" in missing.text

    policy(gw, "kept", input=[{"check": "pii", "action": "monitor"}])
    route(gw, "r", "kept")
    assert [p["name"] for p in gw.get("/api/v1/guardrails").json()["items"]] == ["kept"]
    assert gw.get("/api/v1/guardrails/kept").json()["input"][0] == {
        "check": "pii",
        "action": "monitor",
        "params": {},
        "on_error": None,
    }
    assert gw.delete("/api/v1/guardrails/kept").status_code == 409
    route(gw, "r", None)
    assert gw.delete("/api/v1/guardrails/kept").status_code == 204
    assert gw.get("/api/v1/guardrails/kept").status_code == 404


class Crashing:
    name = "crashing"
    description = "A plugin check with a bug."

    def prepare(self, params: dict[str, Any], where: str) -> None:
        return None

    def run(self, text: str, prepared: None) -> Any:
        raise RuntimeError("the model file is missing")


class CrashingPlugin:
    @hookimpl
    def register_guardrail_checks(self, register: Any) -> None:
        register("crashing", Crashing())


def test_a_check_that_crashes_fails_closed_or_open_as_its_rule_says(
    settings: Settings, stub_url: str
) -> None:
    app = create_app(settings.model_copy(update={"worker_enabled": False}), plugins=[CrashingPlugin()])
    with TestClient(app, headers=bearer(ADMIN_KEY)) as gw:
        provider = {"name": "stub", "kind": "openai", "base_url": stub_url, "api_key": "sk-x"}
        assert gw.post("/api/v1/providers", json=provider).status_code == 201
        policy(gw, "closed", input=[{"check": "crashing", "action": "block"}])
        policy(gw, "open", input=[{"check": "crashing", "action": "block", "on_error": "open"}])
        route(gw, "strict", "closed")
        route(gw, "lenient", "open")
        refused = gw.post("/v1/chat/completions", json={"model": "strict", "messages": ask("hi")})
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "guardrail_blocked"
        assert (
            "fails closed: crashing: RuntimeError: the model file is missing"
            in refused.json()["error"]["message"]
        )
        passed = gw.post("/v1/chat/completions", json={"model": "lenient", "messages": ask("hi")})
        assert passed.status_code == 200
        span = gw.get(f"/api/v1/traces/{traces(gw, 2)[0]['trace_id']}").json()["spans"][0]
        [guardrail] = span["children"]
        assert guardrail["attributes"]["keel.guardrail.errors"] == [
            "crashing: RuntimeError: the model file is missing"
        ]


def test_a_json_schema_rule_retries_once_then_refuses(gw: TestClient) -> None:
    schema = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}}}
    rule = {"check": "json_schema", "action": "retry", "params": {"schema": schema}}
    policy(gw, "json-only", output=[rule])
    for name, model in (("fixed", "obedient"), ("stubborn", "m")):
        body = {"name": name, "targets": [{"provider": "stub", "model": model}], "guardrails": "json-only"}
        assert gw.post("/api/v1/routes", json=body).status_code == 200
    SEEN.clear()
    repaired = sdk(gw).chat.completions.create(model="fixed", messages=ask("hi"))
    answer = json.loads(str(repaired.choices[0].message.content))["answer"]
    assert answer.startswith("echo: Your answer was rejected by a check: the answer is not JSON")
    assert answer.endswith("Answer again, fixing only that.")
    assert len(SEEN) == 2  # asked once more, with the reason
    assert SEEN[1]["body"]["messages"][-2] == {"role": "assistant", "content": "echo: hi"}
    assert repaired.usage is not None
    assert repaired.usage.prompt_tokens == 11  # the upstream's own reply
    trace = gw.get(f"/api/v1/traces/{traces(gw, 1)[0]['trace_id']}").json()["spans"][0]
    assert trace["attributes"]["keel.guardrail.retried"] is True
    assert trace["attributes"]["gen_ai.usage.input_tokens"] == 22  # both attempts are counted

    refused = sdk(gw).chat.completions.create(model="stubborn", messages=ask("hi"))
    assert refused.choices[0].message.content == "Sorry, I cannot answer that."
    assert refused.choices[0].finish_reason == "content_filter"

    bad_schema = {"name": "p", "output": [{**rule, "params": {"schema": {"type": "wibble"}}}]}
    assert "output[0].params.schema" in gw.post("/api/v1/guardrails", json=bad_schema).text
    retry_in = {"name": "p", "input": [{"check": "pii", "action": "retry"}]}
    reply = gw.post("/api/v1/guardrails", json=retry_in)
    assert reply.status_code == 422
    assert "input[0].action" in reply.text
