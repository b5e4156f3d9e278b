"""Fine-tuning across a restart and past the memory limit, each on a server of its own (a file apart from
test_finetune.py so the two run on different workers)."""

import time
from pathlib import Path

import pytest

from keel.local.runtime import installed
from tests.e2e.conftest import start_server
from tests.e2e.test_finetune import QUICK, api_for, items, logs, start, wait

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not installed(), reason="the `local` extra is not installed"),
]


def test_a_restart_resumes_from_the_last_checkpoint(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_server(data, KEEL_FINETUNE_THREADS="1")
    api = api_for(first)
    api.post("/api/v1/datasets", json={"name": "tickets", "items": items()})
    run = start(
        api, register_as="resumed", params={**QUICK, "max_steps": 5, "save_steps": 1, "eval_steps": 10}
    )
    checkpoints = data / "artifacts" / "runs" / run["id"] / "checkpoints"
    deadline = time.monotonic() + 120
    while not any(checkpoints.glob("checkpoint-2")):
        assert time.monotonic() < deadline, "no checkpoint was written"
        time.sleep(0.2)
    code, _ = first.stop()  # a deploy: the job is requeued without spending an attempt
    assert code == 0
    second = start_server(data, KEEL_FINETUNE_THREADS="1")
    api = api_for(second)
    try:
        done = wait(api, run["id"])
        assert done["status"] == "succeeded", done["error"]
        assert "resumed from the last checkpoint" in logs(api, done)
        metrics = api.get(f"/api/v1/finetunes/{run['id']}/metrics").json()["items"]
        steps = [m["step"] for m in metrics if m["kind"] == "train"]
        assert steps == [1, 2, 3, 4, 5]  # each step once, whatever was redone
        assert api.get("/api/v1/models/resumed").json()["latest_version"] == 1
    finally:
        second.stop()


def test_past_the_memory_limit_the_job_fails_with_the_reason(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", KEEL_FINETUNE_MEMORY_LIMIT_MB="1200")
    try:
        api = api_for(server)
        api.post("/api/v1/datasets", json={"name": "tickets", "items": items()})
        failed = wait(api, start(api, register_as="oom", params=QUICK)["id"])
        assert failed["status"] == "failed"
        assert "out of memory:" in failed["error"]
        assert "lower batch_size" in failed["error"]
        assert api.get("/api/v1/models/oom").status_code == 404
    finally:
        server.stop()
