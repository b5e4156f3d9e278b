"""Health-aware routing: after N consecutive failures a target's circuit opens and calls skip it, one call
probes it after the cooldown, a success closes it; the state shows on the route and on traces."""

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keel.gateway.circuits import Circuits, Policy, State
from tests.gateway.test_chat import sdk, traces
from tests.stubs.openai_stub import DOWN, SEEN

KEY = ("prj", "route", "stub", "m")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_circuit_opens_cools_down_probes_once_and_closes() -> None:
    clock, policy = Clock(), Policy(failures=2, cooldown_s=10)
    circuits = Circuits(clock)
    assert circuits.allow(KEY, policy)
    circuits.failed(KEY, policy, "HTTP 500")
    assert circuits.health(KEY, policy).state is State.closed
    circuits.failed(KEY, policy, "HTTP 502")
    health = circuits.health(KEY, policy)
    assert (health.state, health.consecutive_failures, health.retry_in_s) == (State.open, 2, 10)
    assert health.last_error == "HTTP 502"
    assert not circuits.allow(KEY, policy)

    clock.now += 10
    assert circuits.health(KEY, policy).state is State.half_open
    assert circuits.allow(KEY, policy)  # the probe
    assert not circuits.allow(KEY, policy)  # everyone else keeps skipping while it runs
    circuits.failed(KEY, policy, "refused")
    assert circuits.health(KEY, policy).state is State.open  # a failed probe opens it for a new cooldown
    assert circuits.health(KEY, policy).opened_times == 2

    clock.now += 10
    assert circuits.allow(KEY, policy)
    circuits.release(KEY)  # a probe whose caller went away hands the probe back
    assert circuits.allow(KEY, policy)
    circuits.succeeded(KEY)
    assert circuits.health(KEY, policy).state is State.closed
    assert circuits.health(KEY, policy).consecutive_failures == 0


def test_a_success_resets_the_count_and_forget_clears_a_route() -> None:
    policy = Policy(failures=2, cooldown_s=10)
    circuits = Circuits(Clock())
    circuits.failed(KEY, policy, "x")
    circuits.succeeded(KEY)
    circuits.failed(KEY, policy, "x")
    assert circuits.health(KEY, policy).state is State.closed  # not two *consecutive* failures
    circuits.failed(KEY, policy, "x")
    assert circuits.health(KEY, policy).state is State.open
    circuits.forget("prj", "route")
    assert circuits.health(KEY, policy).state is State.closed
    assert circuits.allow(KEY, policy)


def health(gw: TestClient, route: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = gw.get(f"/api/v1/routes/{route}").json()["health"]
    return found


def span_of(gw: TestClient, trace: dict[str, Any]) -> dict[str, Any]:
    spans: list[dict[str, Any]] = gw.get(f"/api/v1/traces/{trace['trace_id']}").json()["spans"]
    return spans[0]["attributes"]


@pytest.fixture
def flaky() -> Any:
    DOWN.add("flaky")
    yield DOWN
    DOWN.discard("flaky")


def test_a_down_primary_is_skipped_then_probed_and_restored(gw: TestClient, flaky: set[str]) -> None:
    route = {
        "name": "guarded",
        "targets": [{"provider": "stub", "model": "flaky"}],
        "fallbacks": [{"provider": "stub", "model": "backup"}],
        "retries": 1,
        "circuit": {"failures": 2, "cooldown_s": 0.4},
    }
    saved = gw.post("/api/v1/routes", json=route).json()
    assert saved["circuit"] == {"failures": 2, "cooldown_s": 0.4}
    assert [h["state"] for h in saved["health"]] == ["closed", "closed"]
    ask = [{"role": "user", "content": "hi"}]

    SEEN.clear()
    assert sdk(gw).chat.completions.create(model="guarded", messages=ask).model.startswith("backup")
    assert [s["body"]["model"] for s in SEEN] == ["flaky", "flaky", "backup"]  # the retry opened it
    [primary, fallback] = health(gw, "guarded")
    assert (primary["state"], primary["consecutive_failures"]) == ("open", 2)
    assert 0 < primary["retry_in_s"] <= 0.4
    assert "HTTP 500" in primary["last_error"]
    assert fallback["state"] == "closed"

    SEEN.clear()
    for _ in range(3):
        assert sdk(gw).chat.completions.create(model="guarded", messages=ask).model.startswith("backup")
    assert [s["body"]["model"] for s in SEEN] == ["backup"] * 3  # no call spent on the dead target
    latest = span_of(gw, traces(gw, 4)[0])
    assert latest["keel.circuit_open"] == ["stub/flaky"]
    assert "keel.failed_attempts" not in latest

    time.sleep(0.45)
    assert health(gw, "guarded")[0]["state"] == "half_open"
    SEEN.clear()
    sdk(gw).chat.completions.create(model="guarded", messages=ask)
    assert [s["body"]["model"] for s in SEEN] == ["flaky", "backup"]  # one probe, no retry; it failed
    assert health(gw, "guarded")[0]["state"] == "open"

    flaky.discard("flaky")
    time.sleep(0.45)
    SEEN.clear()
    assert sdk(gw).chat.completions.create(model="guarded", messages=ask).model.startswith("flaky")
    assert [s["body"]["model"] for s in SEEN] == ["flaky"]
    restored = health(gw, "guarded")[0]
    assert (restored["state"], restored["consecutive_failures"], restored["opened_times"]) == ("closed", 0, 2)


def test_when_every_target_is_open_each_is_tried_once(gw: TestClient) -> None:
    route = {
        "name": "all-down",
        "targets": [{"provider": "dead", "model": "a"}],
        "fallbacks": [{"provider": "stub", "model": "fail"}],
        "retries": 1,
        "circuit": {"failures": 1, "cooldown_s": 60},
    }
    assert gw.post("/api/v1/routes", json=route).status_code == 200
    ask = [{"role": "user", "content": "x"}]
    first = gw.post("/v1/chat/completions", json={"model": "all-down", "messages": ask})
    assert first.status_code == 502
    assert "all 2 attempts failed" in first.json()["error"]["message"]  # each opened after one failure
    assert [h["state"] for h in health(gw, "all-down")] == ["open", "open"]

    again = gw.post("/v1/chat/completions", json={"model": "all-down", "messages": ask})
    assert again.status_code == 502  # the breaker never refuses on its own: both tried once more
    assert "all 2 attempts failed: dead/a" in again.json()["error"]["message"]
    attributes = span_of(gw, traces(gw, 2)[0])
    assert attributes["keel.circuit_open"] == ["dead/a", "stub/fail"]


def test_replacing_a_route_closes_its_circuits_and_bad_policies_are_refused(gw: TestClient) -> None:
    route: dict[str, Any] = {
        "name": "short",
        "targets": [{"provider": "stub", "model": "fail"}],
        "retries": 0,
        "circuit": {"failures": 1, "cooldown_s": 60},
    }
    assert gw.post("/api/v1/routes", json=route).status_code == 200
    gw.post("/v1/chat/completions", json={"model": "short", "messages": [{"role": "user", "content": "x"}]})
    assert health(gw, "short")[0]["state"] == "open"
    assert gw.post("/api/v1/routes", json=route).json()["health"][0]["state"] == "closed"
    for circuit, where in (
        ({"failures": 0}, "failures"),
        ({"cooldown_s": -1}, "cooldown_s"),
        ({"x": 1}, "x"),
    ):
        refused = gw.post("/api/v1/routes", json={**route, "circuit": circuit})
        assert refused.status_code == 422, refused.text
        assert where in refused.text
