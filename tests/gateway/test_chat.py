"""`/v1/chat/completions` through the real `openai` SDK against a local OpenAI-compatible stub upstream."""

import time
from typing import Any

import openai
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY, bearer
from tests.stubs.openai_stub import SEEN


def sdk(client: TestClient) -> openai.OpenAI:
    return openai.OpenAI(
        base_url="http://testserver/v1", api_key=ADMIN_KEY, http_client=client, max_retries=0
    )


def traces(client: TestClient, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while True:
        items: list[dict[str, Any]] = client.get("/api/v1/traces").json()["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.02)


def test_openai_sdk_non_stream_via_provider_prefix(gw: TestClient) -> None:
    raw = sdk(gw).chat.completions.with_raw_response.create(
        model="stub/gpt-4o-mini", user="alice", messages=[{"role": "user", "content": "hello there"}]
    )
    reply = raw.parse()
    assert reply.choices[0].message.content == "echo: hello there"
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == 11
    assert SEEN[-1]["body"]["model"] == "gpt-4o-mini"
    assert SEEN[-1]["authorization"] == "Bearer sk-upstream-secret"
    trace = traces(gw, 1)[0]
    assert trace["model"] == "gpt-4o-mini-2026"
    assert trace["route"] == "stub/gpt-4o-mini"
    assert trace["prompt_tokens"] == 11
    assert trace["user_id"] == "alice"
    assert trace["status"] == "ok"
    assert "hello there" in trace["input"]
    assert "echo: hello there" in trace["output"]
    assert raw.headers["x-keel-trace-id"] == trace["trace_id"]  # what a client attaches feedback to


def test_stream_relays_chunks_and_hides_usage_unless_asked(gw: TestClient) -> None:
    client = sdk(gw)
    chunks = list(
        client.chat.completions.create(
            model="stub/m", stream=True, messages=[{"role": "user", "content": "a b"}]
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "echo: a b "
    assert all(c.usage is None for c in chunks)
    asked = list(
        client.chat.completions.create(
            model="stub/m",
            stream=True,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "x"}],
        )
    )
    assert asked[-1].usage is not None
    assert asked[-1].usage.completion_tokens == 2
    streamed = [t for t in traces(gw, 2) if t["output"] and "a b" in t["output"]][0]
    assert streamed["completion_tokens"] == 3
    detail = gw.get(f"/api/v1/traces/{streamed['trace_id']}").json()
    assert detail["spans"][0]["ttft_ms"] is not None


def test_route_falls_back_and_records_attempts(gw: TestClient) -> None:
    route = {
        "name": "smart",
        "targets": [{"provider": "dead", "model": "gpt-x"}],
        "fallbacks": [{"provider": "stub", "model": "gpt-backup", "variant": "backup"}],
        "retries": 0,
    }
    assert gw.post("/api/v1/routes", json=route).status_code == 200
    reply = sdk(gw).chat.completions.create(model="smart", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "echo: hi"
    trace = traces(gw, 1)[0]
    assert trace["route"] == "smart"
    assert trace["variant"] == "backup"
    span = gw.get(f"/api/v1/traces/{trace['trace_id']}").json()["spans"][0]
    assert "dead/gpt-x" in span["attributes"]["keel.failed_attempts"][0]
    models = sdk(gw).models.list()
    assert [m.id for m in models.data][0] == "smart"


def test_all_attempts_failing_is_502_with_reasons(gw: TestClient) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        sdk(gw).chat.completions.create(model="stub/fail", messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 502
    assert "all 2 attempts failed: stub/fail: HTTP 500" in info.value.message
    assert traces(gw, 1)[0]["status"] == "error"


def test_an_upstream_that_cannot_serve_is_503_with_its_reason(gw: TestClient) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        sdk(gw).chat.completions.create(model="stub/busy", messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 503
    assert "stub/busy: HTTP 503 (no capacity for this model)" in info.value.message
    assert info.value.code == "upstream_unavailable"
    assert traces(gw, 1)[0]["status"] == "error"


def test_upstream_client_errors_pass_through(gw: TestClient) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sdk(gw).chat.completions.create(model="stub/bad-request", messages=[{"role": "user", "content": "x"}])
    assert "temperature too high" in info.value.message
    garbage = gw.post(
        "/v1/chat/completions", json={"model": "stub/garbage", "messages": [{"role": "user", "content": "x"}]}
    )
    assert garbage.status_code == 502
    assert "not a chat completion" in garbage.json()["error"]["message"]


def test_cut_stream_ends_with_error_event_and_error_trace(gw: TestClient) -> None:
    body = {"model": "stub/cut", "stream": True, "messages": [{"role": "user", "content": "one two three"}]}
    with gw.stream("POST", "/v1/chat/completions", json=body) as response:
        text = "".join(response.iter_text())
    assert response.status_code == 200
    assert '"code":"upstream_error"' in text
    assert "broke off" in text
    assert traces(gw, 1)[0]["status"] == "error"


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": "nope", "messages": [{"role": "user", "content": "x"}]}, 404, "model"),
        ({"model": "stub/m", "messages": []}, 400, "messages"),  # OpenAI's status for a bad request
        ({"model": "stub/m", "messages": [{"role": "wizard", "content": "x"}]}, 400, "messages[0].role"),
        ({"model": "stub/m", "messages": [{"role": "user"}]}, 400, "messages[0].content"),
        ({"model": "stub/m", "messages": [{"role": "user", "content": 5}]}, 400, "messages[0].content"),
        ({"model": 3, "messages": []}, 400, "model"),
    ],
)
def test_bad_requests_get_openai_errors(
    gw: TestClient, body: dict[str, Any], status: int, param: str
) -> None:
    response = gw.post("/v1/chat/completions", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param
    assert SEEN == []


def test_malformed_json_and_auth(gw: TestClient) -> None:
    response = gw.post("/v1/chat/completions", content=b"{oops", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "not valid JSON" in response.json()["error"]["message"]
    viewer = gw.post("/api/v1/keys", json={"name": "v", "role": "viewer"}).json()["key"]
    denied = gw.post(
        "/v1/chat/completions",
        headers=bearer(viewer),
        json={"model": "stub/m", "messages": [{"role": "user", "content": "x"}]},
    )
    assert denied.status_code == 403
    assert denied.json()["error"]["type"] == "permission_error"


def test_weights_and_sticky_users(gw: TestClient) -> None:
    split = {
        "name": "ab",
        "sticky": "user",
        "targets": [
            {"provider": "stub", "model": "model-a", "weight": 1, "variant": "a"},
            {"provider": "stub", "model": "model-b", "weight": 1, "variant": "b"},
        ],
    }
    gw.post("/api/v1/routes", json=split)
    client = sdk(gw)
    for user in ("u1", "u2", "u3", "u4", "u5", "u6"):
        for _ in range(3):
            client.chat.completions.create(model="ab", user=user, messages=[{"role": "user", "content": "x"}])
    by_user: dict[str, set[str]] = {}
    for seen in SEEN:
        by_user.setdefault(seen["body"]["user"], set()).add(seen["body"]["model"])
    assert all(len(models) == 1 for models in by_user.values())
    assert {m for models in by_user.values() for m in models} == {"model-a", "model-b"}
    canary = {
        "name": "canary",
        "targets": [
            {"provider": "stub", "model": "stable", "weight": 1},
            {"provider": "stub", "model": "new", "weight": 0},
        ],
    }
    gw.post("/api/v1/routes", json=canary)
    SEEN.clear()
    for _ in range(5):
        client.chat.completions.create(model="canary", messages=[{"role": "user", "content": "x"}])
    assert {s["body"]["model"] for s in SEEN} == {"stable"}


def test_route_validation(gw: TestClient) -> None:
    unknown = gw.post("/api/v1/routes", json={"name": "r", "targets": [{"provider": "ghost", "model": "m"}]})
    assert unknown.status_code == 422
    assert "unknown provider 'ghost'" in unknown.json()["detail"]
    zero = gw.post(
        "/api/v1/routes", json={"name": "r", "targets": [{"provider": "stub", "model": "m", "weight": 0}]}
    )
    assert zero.status_code == 422
    assert gw.get("/api/v1/routes").json()["items"] == []


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"response_format": {"type": "xml"}}, "response_format"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
            "response_format.json_schema",
        ),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": 3}}},
            "response_format.json_schema.schema",
        ),
        ({"n": 0}, "n"),
        ({"n": "2"}, "n"),
    ],
)
def test_bad_options_are_refused_before_any_upstream_call(
    gw: TestClient, extra: dict[str, Any], param: str
) -> None:
    body = {"model": "stub/m", "messages": [{"role": "user", "content": "x"}], **extra}
    response = gw.post("/v1/chat/completions", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert SEEN == []


def test_valid_json_schema_is_forwarded(gw: TestClient) -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}}
    gw.post(
        "/v1/chat/completions",
        json={"model": "stub/m", "messages": [{"role": "user", "content": "x"}], "response_format": schema},
    )
    assert SEEN[-1]["body"]["response_format"] == schema
