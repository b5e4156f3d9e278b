"""`POST /api/v1/monitoring/drift` over real gateway traces (the openai SDK against the stub upstream, whose
`no-usage` model makes the gateway count tokens itself, so they follow the prompts): a
window of long prompts drifts from a window of short ones on input tokens; a window like the reference does
not; bad windows and filters are refused."""

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer
from tests.gateway.test_chat import sdk
from tests.stubs.openai_stub import openai_stub


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with openai_stub() as url:
        yield url


def now() -> str:
    time.sleep(0.01)
    return datetime.now(UTC).isoformat()


def test_long_prompts_drift_and_a_control_window_does_not(settings: Settings, stub_url: str) -> None:
    rng = random.Random(5)
    with TestClient(
        create_app(settings.model_copy(update={"worker_enabled": False})), headers=bearer(ADMIN_KEY)
    ) as gw:
        assert gw.post(
            "/api/v1/providers", json={"name": "stub", "kind": "openai", "base_url": stub_url}
        ).is_success
        assert gw.post(
            "/api/v1/routes", json={"name": "r", "targets": [{"provider": "stub", "model": "no-usage"}]}
        ).is_success
        client = sdk(gw)

        def window(words: tuple[int, int]) -> dict[str, str]:
            start = now()
            for _ in range(40):
                text = " ".join("word" for _ in range(rng.randint(*words)))
                client.chat.completions.create(model="r", messages=[{"role": "user", "content": text}])
            return {"from": start, "to": now()}

        reference, control, shifted = window((3, 12)), window((3, 12)), window((40, 80))
        gw.app.state.runtime.service("tracing.writer").barrier()

        def report(current: dict[str, str]) -> dict[str, dict]:
            body = {"filters": {"route": "r"}, "reference": reference, "current": current}
            reply = gw.post("/api/v1/monitoring/drift", json=body)
            assert reply.status_code == 200, reply.text
            return {f["feature"]: f for f in reply.json()["features"]}

        drifted = report(shifted)["input_tokens"]
        assert drifted["drifted"] is True
        assert drifted["test"] == "ks"
        assert drifted["reference_count"] == drifted["current_count"] == 40
        assert len(drifted["histogram"]["current"]) == 20
        steady = report(control)
        assert steady["input_tokens"]["drifted"] is False
        assert steady["error"]["drifted"] is False

        backwards = {
            "filters": {},
            "reference": {"from": reference["to"], "to": reference["from"]},
            "current": control,
        }
        assert gw.post("/api/v1/monitoring/drift", json=backwards).status_code == 422
        unknown = {"filters": {"colour": "x"}, "reference": reference, "current": control}
        refused = gw.post("/api/v1/monitoring/drift", json=unknown)
        assert refused.status_code == 422
        assert "unknown filter(s) colour" in refused.text


def test_a_drift_rule_fires_when_this_window_drifts_from_the_last(settings: Settings, stub_url: str) -> None:
    fast = settings.model_copy(update={"worker_enabled": False, "alert_interval_seconds": 1})
    with TestClient(create_app(fast), headers=bearer(ADMIN_KEY)) as gw:
        assert gw.post(
            "/api/v1/providers", json={"name": "stub", "kind": "openai", "base_url": stub_url}
        ).is_success
        route = {"name": "r", "targets": [{"provider": "stub", "model": "no-usage"}]}
        assert gw.post("/api/v1/routes", json=route).is_success
        rule = {
            "name": "inputs-drift",
            "metric": "drifted_features",
            "filters": {"route": "r", "feature": "input_tokens"},
            "comparison": ">=",
            "threshold": 1,
            "window_s": 3,
            "min_count": 30,
        }
        assert (
            gw.post("/api/v1/alerts/rules", json={**rule, "filters": {"feature": "mood"}}).status_code == 422
        )
        assert gw.post("/api/v1/alerts/rules", json=rule).status_code == 200
        client, alerts = sdk(gw), gw.app.state.runtime.service("monitoring.alerts")

        def send(words: int) -> None:
            for n in range(35):
                text = " ".join("word" for _ in range(words + n % 5))
                client.chat.completions.create(model="r", messages=[{"role": "user", "content": text}])
            gw.app.state.runtime.service("tracing.writer").barrier()

        started = time.monotonic()
        send(4)
        time.sleep(max(0.0, 3.2 - (time.monotonic() - started)))
        send(4)  # the same kind of traffic: no drift
        alerts.evaluate_all()
        assert gw.get("/api/v1/alerts/rules/inputs-drift").json()["state"] == "ok"
        time.sleep(3.2)
        send(60)  # much longer prompts than the window before
        alerts.evaluate_all()
        fired = gw.get("/api/v1/alerts/rules/inputs-drift").json()
        assert fired["state"] == "firing", fired
        assert fired["last_value"] == 1.0


def test_scores_drift_when_answers_get_worse(settings: Settings, stub_url: str) -> None:
    fast = settings.model_copy(update={"worker_enabled": False})
    with TestClient(create_app(fast), headers=bearer(ADMIN_KEY)) as gw:
        assert gw.post(
            "/api/v1/providers", json={"name": "stub", "kind": "openai", "base_url": stub_url}
        ).is_success
        assert gw.post(
            "/api/v1/routes", json={"name": "r", "targets": [{"provider": "stub", "model": "m"}]}
        ).is_success

        def window(good: float) -> dict[str, str]:
            start = now()
            for n in range(40):
                raw = sdk(gw).chat.completions.with_raw_response.create(
                    model="r", messages=[{"role": "user", "content": f"q{n}"}]
                )
                value = 1.0 if n < good * 40 else 0.0
                fb = {"trace_id": raw.headers["x-keel-trace-id"], "name": "thumbs", "value": value}
                assert gw.post("/api/v1/feedback", json=fb).status_code == 201
            return {"from": start, "to": now()}

        reference, current = window(0.9), window(0.3)
        gw.app.state.runtime.service("tracing.writer").barrier()
        body = {"reference": reference, "current": current, "scores": ["thumbs"], "meaning": False}
        features = {
            f["feature"]: f for f in gw.post("/api/v1/monitoring/drift", json=body).json()["features"]
        }
        assert features["score:thumbs"]["drifted"] is True
        assert features["score:thumbs"]["current_count"] == 40
        assert "input_meaning" not in features
