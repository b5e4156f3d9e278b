"""Canary releases end to end, with two stub upstreams as baseline and candidate and the openai SDK as the
client: a candidate failing 30% of calls is rolled back at the judge's first look after `min_calls` (and its
failures were rescued by the baseline, so clients saw none); an equal one is promoted through every step; a
slower one (p95 +50%) is rolled back on latency alone; one with too few calls stays undecided and says so;
bad specs are refused with nothing saved; a restart resumes the release where it was."""

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer
from tests.gateway.test_chat import sdk
from tests.stubs.arm_stub import Behaviour, arm_stub
from tests.stubs.openai_stub import serve

BASELINE = Behaviour(delay_s=0.02)
CANDIDATE = Behaviour(delay_s=0.02)
RECEIVED: list[tuple[dict[str, str], bytes]] = []


async def hook(request: Request) -> Response:
    RECEIVED.append((dict(request.headers), await request.body()))
    return Response(status_code=204)


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    with serve(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        yield url + "/hook"


@pytest.fixture(scope="module")
def stubs() -> Iterator[tuple[str, str]]:
    with arm_stub(BASELINE) as baseline, arm_stub(CANDIDATE) as candidate:
        yield baseline, candidate


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"worker_enabled": False, "canary_tick_seconds": 0.2, "webhook_allow_private": True}
    )


@pytest.fixture
def app(fast: Settings, stubs: tuple[str, str]) -> Iterator[TestClient]:
    BASELINE.delay_s, BASELINE.errors_per_10, BASELINE.calls = 0.02, 0, 0
    CANDIDATE.delay_s, CANDIDATE.errors_per_10, CANDIDATE.calls = 0.02, 0, 0
    with TestClient(create_app(fast), headers=bearer(ADMIN_KEY)) as client:
        for name, url in zip(("old", "new"), stubs, strict=True):
            provider = {"name": name, "kind": "openai", "base_url": url}
            assert client.post("/api/v1/providers", json=provider).status_code == 201
        yield client


def route(canary: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "chat", "targets": [{"provider": "old", "model": "m1"}], "retries": 0}
    if canary is not None:
        body["canary"] = {"target": {"provider": "new", "model": "m2"}, **canary}
    return body


def call(client: TestClient, times: int) -> int:
    """Send `times` chat calls; returns how many failed as the client saw them."""
    api, failed = sdk(client), 0
    for _ in range(times):
        try:
            api.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
        except Exception:
            failed += 1
    return failed


def canary(client: TestClient) -> dict[str, Any]:
    reply = client.get("/api/v1/routes/chat/canary")
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def drive(client: TestClient, until: Any, timeout: float = 60.0, batch: int = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        call(client, batch)
        state = canary(client)
        if until(state):
            return state
    raise AssertionError(f"timed out; canary is {canary(client)}")


def test_a_candidate_failing_30_percent_is_rolled_back_and_clients_see_no_errors(
    app: TestClient, receiver: str
) -> None:
    CANDIDATE.errors_per_10 = 3
    RECEIVED.clear()
    notify = [{"type": "webhook", "url": receiver, "secret": "s3cret"}]
    spec = {"steps": [30, 100], "interval": "10m", "min_calls": 20, "notify": notify}
    assert app.post("/api/v1/routes", json=route(spec)).status_code == 200
    started = time.monotonic()
    seen_failures = 0
    while time.monotonic() - started < 60:
        seen_failures += call(app, 10)
        state = canary(app)
        if state["state"] != "running":
            break
    assert state["state"] == "rolled_back", state
    assert time.monotonic() - started < 30  # long before the 10-minute interval: failures act at once
    assert seen_failures == 0  # every failed candidate attempt fell back to the baseline
    decision = state["decisions"][0]
    assert decision["action"] == "rollback"
    assert decision["verdict"] == "fail"
    error = next(m for m in decision["metrics"] if m["name"] == "error_rate")
    assert error["verdict"] == "fail"
    assert error["canary"] > 0.15
    assert error["canary_n"] >= 20
    assert len(decision["traces"]["canary"]) == error["canary_n"]
    assert "error_rate" in state["reason"]
    before = CANDIDATE.calls
    assert call(app, 30) == 0
    assert CANDIDATE.calls == before  # weight 0: nothing reaches the candidate after the rollback
    listed = app.get("/api/v1/routes/chat").json()
    assert listed["canary_state"] == "rolled_back"
    assert listed["canary_weight"] == 0
    assert listed["canary"]["notify"][0]["secret"] == "***"  # never echoed
    deadline = time.monotonic() + 10
    while not RECEIVED and time.monotonic() < deadline:
        time.sleep(0.05)
    headers, raw = RECEIVED[0]
    sent = orjson.loads(raw)
    assert sent["event"] == "canary.rollback"
    assert sent["route"] == "chat"
    assert "error_rate" in sent["message"]
    assert headers["x-keel-signature"].startswith("t=")


def test_an_equal_candidate_is_promoted_through_every_step(app: TestClient) -> None:
    spec = {"steps": [25, 50, 100], "interval": "1s", "min_calls": 20}
    assert app.post("/api/v1/routes", json=route(spec)).status_code == 200
    state = drive(app, lambda s: s["state"] != "running")
    assert state["state"] == "promoted", state
    decided = [d for d in reversed(state["decisions"]) if d["action"] != "wait"]  # waits: data still coming
    assert [(d["action"], d["weight"]) for d in decided] == [("advance", 25), ("promote", 50)]
    assert all(d["verdict"] == "pass" for d in decided)
    saved = app.get("/api/v1/routes/chat").json()
    assert [(t["provider"], t["model"]) for t in saved["targets"]] == [("new", "m2")]
    before = BASELINE.calls
    call(app, 10)
    assert BASELINE.calls == before  # all traffic on the promoted candidate
    # re-applying the same route body changes nothing: still promoted, still on the candidate
    assert app.post("/api/v1/routes", json=route(spec)).status_code == 200
    again = app.get("/api/v1/routes/chat").json()
    assert again["canary_state"] == "promoted"
    assert [t["provider"] for t in again["targets"]] == ["new"]
    # a person can still roll the promotion back: the old targets return at once
    rolled = app.post("/api/v1/routes/chat/canary/rollback", json={"reason": "customer report"}).json()
    assert rolled["state"] == "rolled_back"
    assert rolled["decisions"][0]["author"] != "judge"
    assert [t["provider"] for t in app.get("/api/v1/routes/chat").json()["targets"]] == ["old"]


def test_a_slower_candidate_is_rolled_back_on_latency_alone(app: TestClient) -> None:
    CANDIDATE.delay_s = 0.045  # baseline 20 ms upstream; +50% or more end to end
    spec = {"steps": [40, 100], "interval": "10m", "min_calls": 30}
    assert app.post("/api/v1/routes", json=route(spec)).status_code == 200
    state = drive(app, lambda s: s["state"] != "running")
    assert state["state"] == "rolled_back", state
    metrics = {m["name"]: m for m in state["decisions"][0]["metrics"]}
    assert metrics["error_rate"]["verdict"] == "pass"
    assert metrics["latency_p95"]["verdict"] == "fail"
    assert metrics["latency_p95"]["change"] > 0.2


def test_too_few_calls_stay_undecided_and_say_so(app: TestClient) -> None:
    spec = {"steps": [50, 100], "interval": "1s", "min_calls": 500}
    assert app.post("/api/v1/routes", json=route(spec)).status_code == 200
    call(app, 30)
    deadline = time.monotonic() + 20
    while not (state := canary(app))["decisions"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert state["state"] == "running"
    assert state["weight"] == 50
    assert state["decisions"][0]["action"] == "wait"
    assert "waiting for data" in state["decisions"][0]["reason"]
    assert state["live"]["verdict"] == "wait"


def test_people_can_pause_resume_and_promote(app: TestClient) -> None:
    spec = {"steps": [10, 100], "interval": "10m", "min_calls": 500}
    assert app.post("/api/v1/routes", json=route(spec)).status_code == 200
    assert app.post("/api/v1/routes/chat/canary/pause").json()["state"] == "paused"
    assert app.post("/api/v1/routes/chat/canary/pause").status_code == 409
    assert app.post("/api/v1/routes/chat/canary/resume").json()["state"] == "running"
    promoted = app.post("/api/v1/routes/chat/canary/promote").json()
    assert promoted["state"] == "promoted"
    assert [d["action"] for d in promoted["decisions"]] == ["promote", "resume", "pause"]
    assert app.post("/api/v1/routes/chat/canary/bogus").status_code == 422


@pytest.mark.parametrize(
    ("canary_spec", "field"),
    [
        ({"steps": [50, 20, 100]}, "steps"),
        ({"steps": [5, 25]}, "steps"),
        ({"metrics": [{"name": "happiness"}]}, "metrics"),
        ({"interval": "0s"}, "interval"),
        ({"target": {"provider": "ghost", "model": "m2"}}, "unknown provider 'ghost'"),
    ],
)
def test_bad_canaries_are_refused_and_nothing_is_saved(
    app: TestClient, canary_spec: dict[str, Any], field: str
) -> None:
    reply = app.post("/api/v1/routes", json=route(canary_spec))
    assert reply.status_code == 422
    assert field in reply.text
    assert app.get("/api/v1/routes/chat").status_code == 404


def test_a_canary_on_its_own_baseline_is_refused(app: TestClient) -> None:
    body = route({})
    body["canary"]["target"] = {"provider": "old", "model": "m1"}
    reply = app.post("/api/v1/routes", json=body)
    assert reply.status_code == 422
    assert "already one of the route's targets" in reply.text
    assert app.get("/api/v1/routes/chat/canary").status_code == 404


def test_a_restart_resumes_the_release_where_it_was(fast: Settings, app: TestClient) -> None:
    spec = {"steps": [20, 100], "interval": "10m", "min_calls": 500}
    assert app.post("/api/v1/routes", json=route(spec)).status_code == 200
    before = canary(app)
    app.__exit__(None, None, None)
    with TestClient(create_app(fast), headers=bearer(ADMIN_KEY)) as again:
        after = canary(again)
        assert (after["id"], after["state"], after["weight"]) == (before["id"], "running", 20)
        assert after["step_started_at"] == before["step_started_at"]
        call(again, 20)
        assert CANDIDATE.calls > 0


def test_put_starts_a_canary_on_an_existing_route_and_is_idempotent(app: TestClient) -> None:
    assert app.post("/api/v1/routes", json=route()).status_code == 200
    release = {"target": {"provider": "new", "model": "m2"}, "steps": [20, 100], "min_calls": 500}
    first = app.put("/api/v1/routes/chat/canary", json=release)
    assert first.status_code == 200, first.text
    assert (first.json()["state"], first.json()["weight"]) == ("running", 20)
    again = app.put("/api/v1/routes/chat/canary", json=release).json()
    assert again["id"] == first.json()["id"]  # the same release goes on
    assert app.put("/api/v1/routes/nowhere/canary", json=release).status_code == 404
    assert app.put("/api/v1/routes/chat/canary", json={**release, "steps": [100]}).status_code == 422
    assert app.get("/api/v1/routes/chat/canary").json()["id"] == first.json()["id"]
