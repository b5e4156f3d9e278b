"""An experiment interrupted by a server restart resumes where it stopped: every item scored exactly once."""

import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import start_server
from tests.stubs.openai_stub import openai_stub

pytestmark = pytest.mark.e2e


def test_experiment_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with openai_stub() as stub:
        server = start_server(data)
        key = (data / "admin.key").read_text().strip()
        api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        api.post("/api/v1/providers", json={"name": "stub", "kind": "openai", "base_url": stub})
        prompt = {"name": "ask", "messages": [{"role": "user", "content": "{{ q }}"}], "model": "stub/slow"}
        api.post("/api/v1/prompts", json=prompt)
        items = [{"input": {"q": f"question {i}"}, "expected": f"echo: question {i}"} for i in range(4)]
        api.post("/api/v1/datasets", json={"name": "qa", "items": items})
        body = {
            "dataset": "qa",
            "task": {"type": "prompt", "prompt": "ask"},
            "evaluators": ["exact_match"],
            "concurrency": 1,
        }
        experiment_id = api.post("/api/v1/experiments", json=body).json()["id"]
        deadline = time.monotonic() + 30
        while api.get(f"/api/v1/experiments/{experiment_id}").json()["done"] < 1:
            assert time.monotonic() < deadline, "no item finished"
            time.sleep(0.2)
        code, _ = server.stop()
        assert code == 0
        api.close()
        server = start_server(data)
        api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        try:
            deadline = time.monotonic() + 60
            while (found := api.get(f"/api/v1/experiments/{experiment_id}").json())["status"] != "succeeded":
                assert time.monotonic() < deadline, found
                time.sleep(0.3)
            assert found["done"] == 4
            assert found["summary"]["exact_match"] == {**found["summary"]["exact_match"], "mean": 1.0, "n": 4}
            results = api.get(f"/api/v1/experiments/{experiment_id}/results").json()["items"]
            assert sorted(r["input"]["q"] for r in results) == [f"question {i}" for i in range(4)]
            job = api.get(f"/api/v1/jobs/{found['job_id']}").json()
            assert job["status"] == "succeeded"
        finally:
            api.close()
            server.stop()
