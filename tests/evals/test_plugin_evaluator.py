"""A plugin's evaluator is listed and used by experiments like a built-in one."""

from collections.abc import Sequence
from typing import Any

from fastapi.testclient import TestClient

from keel.evals.evaluators.base import EvalContext, Evaluator, Failed, Result, Sample, text
from keel.plugins.hookspecs import Register, hookimpl
from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer


def shouting(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    results: list[Result] = []
    for sample in samples:
        out = text(sample.output)
        results.append(Failed("empty output") if not out else {"uppercase": float(out.isupper())})
    return results


class ShoutPlugin:
    @hookimpl
    def register_evaluators(self, register: Register) -> None:
        register(
            "shouting",
            Evaluator("shouting", "1 when the output is all caps.", ("uppercase",), False, shouting),
        )


def test_plugin_evaluator_scores_a_client_experiment(settings: Settings) -> None:
    with TestClient(create_app(settings, plugins=[ShoutPlugin()]), headers=bearer(ADMIN_KEY)) as client:
        names = [e["name"] for e in client.get("/api/v1/evaluators").json()["items"]]
        assert "shouting" in names
        assert "rouge" in names
        items = [{"input": "a"}, {"input": "b"}, {"input": "c"}]
        client.post("/api/v1/datasets", json={"name": "d", "items": items})
        body = {"dataset": "d", "task": {"type": "client"}, "evaluators": ["shouting"]}
        experiment = client.post("/api/v1/experiments", json=body).json()
        pending = client.get(f"/api/v1/experiments/{experiment['id']}/pending").json()["items"]
        outputs = {"a": "HELLO", "b": "hello", "c": ""}
        results = [{"item_key": p["item_key"], "output": outputs[p["input"]]} for p in pending]
        stored = client.post(f"/api/v1/experiments/{experiment['id']}/results", json={"results": results})
        assert stored.json() == {"stored": 3}
        again = client.post(f"/api/v1/experiments/{experiment['id']}/results", json={"results": results[:1]})
        assert again.status_code == 422  # already scored: never twice
        done = client.post(f"/api/v1/experiments/{experiment['id']}/finish").json()
        assert done["summary"]["uppercase"] == {
            **done["summary"]["uppercase"],
            "mean": 0.5,
            "n": 2,
            "failed": 1,
        }
        assert client.post(f"/api/v1/experiments/{experiment['id']}/finish").status_code == 409
