"""Closed loops through the API: saved and listed, bad ones refused naming the field with nothing saved, a run
started by hand is moved on by the runner (here: skipped, nothing new to learn from), one run at a time; and
the gate's verdict on recorded evaluations."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keel.loops.loop_schemas import LoopIn
from keel.loops.loop_service import verdict
from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer

LOOP: dict[str, Any] = {
    "name": "support-loop",
    "dataset": "support-prod",
    "selector": {"filters": {"route": "support"}, "scores": [{"name": "thumbs", "min": 1}]},
    "finetune": {"register_as": "support-tuned", "params": {"max_steps": 5}},
    "canary": {"route": "support", "steps": [10, 50, 100], "interval": "5m", "min_calls": 100},
    "trigger": {"schedule": "0 3 * * *", "min_new_traces": 500},
}


@pytest.fixture
def app(settings: Settings) -> Iterator[TestClient]:
    fast = settings.model_copy(update={"worker_enabled": False, "loop_tick_seconds": 1.0})
    with TestClient(create_app(fast), headers=bearer(ADMIN_KEY)) as client:
        route = {"name": "support", "targets": [{"provider": "local", "model": "smollm2-135m-instruct"}]}
        assert client.post("/api/v1/routes", json=route).status_code == 200
        yield client


def test_a_loop_is_saved_listed_and_run_by_hand(app: TestClient) -> None:
    saved = app.post("/api/v1/loops", json=LOOP)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["next_run_at"] is not None  # the schedule's next 03:00 UTC
    assert body["next_run_at"].endswith(("03:00:00Z", "03:00:00+00:00"))
    assert [x["name"] for x in app.get("/api/v1/loops").json()["items"]] == ["support-loop"]
    started = app.post("/api/v1/loops/support-loop/runs")
    assert started.status_code == 202
    assert started.json()["stage"] == "select"
    second = app.post("/api/v1/loops/support-loop/runs")
    first = app.get(f"/api/v1/loops/support-loop/runs/{started.json()['id']}").json()
    assert second.status_code == 409 or first["status"] != "running"  # one run at a time
    deadline = time.monotonic() + 10
    while (run := app.get(f"/api/v1/loops/support-loop/runs/{started.json()['id']}").json())[
        "status"
    ] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert run["status"] == "skipped"
    assert "no new traces" in run["reason"]
    assert [e["stage"] for e in run["log"]] == ["select", "done"]
    last = app.get("/api/v1/loops/support-loop").json()["last_run"]
    assert last["number"] == (2 if second.status_code == 202 else 1)
    assert app.delete("/api/v1/loops/support-loop").status_code == 204
    assert app.get("/api/v1/loops/support-loop").status_code == 404


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"finetune": {"params": {"max_steps": 5}}}, "register_as is required"),
        ({"finetune": {"register_as": "x", "params": {"lr": -1}}}, "lr"),
        ({"finetune": {"register_as": "x", "dataset": "other"}}, "set by the loop"),
        ({"canary": {**LOOP["canary"], "route": "nowhere"}}, "canary.route 'nowhere' does not exist"),
        ({"canary": {**LOOP["canary"], "steps": [50, 10, 100]}}, "steps"),
        ({"trigger": {"schedule": "every day"}}, "not a cron expression"),
        ({"selector": {"fraction": 2}}, "fraction"),
    ],
)
def test_bad_loops_are_refused_and_nothing_is_saved(
    app: TestClient, change: dict[str, Any], message: str
) -> None:
    reply = app.post("/api/v1/loops", json={**LOOP, **change})
    assert reply.status_code == 422
    assert message in reply.text
    assert app.get("/api/v1/loops").json()["items"] == []


def gate(**metrics: str) -> dict[str, Any]:
    return {"against": "base", "metrics": {m: {"verdict": v, "diff": 0.1} for m, v in metrics.items()}}


@pytest.mark.parametrize(
    ("record", "require", "passes"),
    [
        (gate(exact_match="better", rouge="no difference"), "not_worse", True),
        (gate(exact_match="better", rouge="worse"), "not_worse", False),
        (gate(exact_match="no difference"), "better", False),
        (gate(exact_match="no data"), "not_worse", False),
        ({}, "not_worse", False),
        ({"error": "the model broke"}, "not_worse", False),
    ],
)
def test_the_gate_never_passes_without_evidence(record: dict[str, Any], require: str, passes: bool) -> None:
    spec = LoopIn.model_validate({**LOOP, "gate": {"require": require}})
    assert verdict(spec, record)[0] is passes
