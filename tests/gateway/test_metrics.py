"""`GET /metrics` after real gateway calls (the openai SDK against the stub upstream), parsed by
prometheus-client's own parser: requests by status, durations, tokens, refusals, guardrail verdicts, the
state gauges; who may scrape and what a project key sees."""

from collections.abc import Iterator

import openai
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer
from tests.gateway.test_chat import sdk

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, **headers: str) -> Samples:
    reply = client.get("/metrics", headers=headers or None)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls)


def test_calls_refusals_and_state_are_exported(gw: TestClient) -> None:
    assert gw.post(
        "/api/v1/routes", json={"name": "r", "targets": [{"provider": "stub", "model": "m"}]}
    ).is_success
    assert gw.post("/api/v1/routes", json={"name": "bad", "targets": [{"provider": "stub", "model": "fail"}]})
    client = sdk(gw)
    for _ in range(2):
        client.chat.completions.create(model="r", messages=[{"role": "user", "content": "hi there"}])
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="bad", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="r", messages=[])
    stream = client.chat.completions.create(
        model="r", messages=[{"role": "user", "content": "go"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    samples = scrape(gw)
    assert value(samples, "keel_gateway_requests_total", route="r", model="m", status="ok") == 3
    assert value(samples, "keel_gateway_requests_total", route="bad", status="error") == 1
    assert value(samples, "keel_gateway_refused_total", reason="invalid_input") == 1
    assert value(samples, "keel_gateway_request_duration_seconds_count", route="r") == 3
    assert value(samples, "keel_gateway_time_to_first_token_seconds_count", route="r") == 1
    assert value(samples, "keel_gateway_tokens_total", route="r", kind="input") > 0
    assert value(samples, "keel_gateway_tokens_total", route="r", kind="output") > 0
    assert ("keel_trace_writer_queue_depth", frozenset()) in samples
    assert value(samples, "keel_trace_spans_rejected_total") == 0


def test_guardrail_verdicts_and_fallbacks_are_counted(gw: TestClient) -> None:
    gw.post("/api/v1/guardrails", json={"name": "p", "input": [{"check": "pii", "action": "redact"}]})
    body = {
        "name": "g",
        "targets": [{"provider": "dead", "model": "m"}],
        "fallbacks": [{"provider": "stub", "model": "m"}],
        "retries": 0,
        "guardrails": "p",
    }
    assert gw.post("/api/v1/routes", json=body).is_success
    sdk(gw).chat.completions.create(
        model="g", messages=[{"role": "user", "content": "mail jane@example.com"}]
    )
    samples = scrape(gw)
    assert (
        value(
            samples, "keel_guardrail_verdicts_total", route="g", stage="input", check="pii", action="redact"
        )
        == 1
    )
    assert value(samples, "keel_gateway_fallbacks_total", route="g") == 1


@pytest.fixture
def guarded(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"worker_enabled": False}))) as client:
        yield client


def test_a_key_is_needed_and_a_project_key_sees_its_own_series(guarded: TestClient) -> None:
    assert guarded.get("/metrics").status_code == 401
    admin = bearer(ADMIN_KEY)
    other = guarded.post("/api/v1/projects", json={"name": "other"}, headers=admin).json()["id"]
    key = guarded.post(
        "/api/v1/keys", json={"project_id": other, "role": "viewer", "name": "prom"}, headers=admin
    ).json()["key"]
    for auth in (admin, bearer(key)):  # a refusal in each project
        guarded.post("/v1/chat/completions", json={"model": "x", "messages": []}, headers=auth)
    everything = scrape(guarded, **admin)
    assert len({dict(ls)["project"] for n, ls in everything if n == "keel_gateway_refused_total"}) == 2
    own = scrape(guarded, **bearer(key))
    assert {dict(ls)["project"] for n, ls in own if n == "keel_gateway_refused_total"} == {other}
    assert ("keel_trace_writer_queue_depth", frozenset()) not in own  # instance-wide state: admin only


def test_public_metrics_need_no_key(settings: Settings) -> None:
    public = settings.model_copy(update={"worker_enabled": False, "metrics_public": True})
    with TestClient(create_app(public)) as client:
        assert "keel_jobs" in client.get("/metrics").text
