"""`keel demo` as a user runs it, on a fresh data directory, CPU only: the whole closed loop in minutes
(production traffic with simulated feedback, a loop that builds the dataset, a LoRA fine-tune, the gate
against the base model, a canary on live traffic and the judge's decision), within the 10-minute budget."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keel.local.runtime import installed
from tests.e2e.conftest import clean_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not installed(), reason="the `local` extra is not installed"),
]


@pytest.mark.timeout(900)
def test_keel_demo_closes_the_loop_in_under_ten_minutes(tmp_path: Path) -> None:
    started = time.monotonic()
    env = clean_env(KEEL_LOCAL_THREADS="2", KEEL_FINETUNE_THREADS="2", COLUMNS="200")
    done = subprocess.run(
        [sys.executable, "-m", "keel", "demo", "--data-dir", str(tmp_path / "demo"), "--no-keep", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert took < 600, f"the demo took {took:.0f} s"
    out = done.stdout
    for step in range(1, 7):
        assert f"[{step}/6]" in out
    result = json.loads(next(line for line in reversed(out.splitlines()) if line.startswith("{")))
    assert result["status"] in ("succeeded", "rolled_back"), result["reason"]
    assert result["reason"]
    assert result["tuned_exact_match"] >= result["base_exact_match"]
    decisions = [d for d in result["canary"]["decisions"] if d["action"] != "wait"]
    assert decisions[0]["action"] in ("promote", "rollback")
    assert {m["name"] for m in decisions[0]["metrics"]} == {"error_rate", "feedback:thumbs", "latency_p95"}
    if result["status"] == "succeeded":
        assert result["canary"]["state"] == "promoted"
        assert "promoted" in result["reason"]
    (tmp_path / "demo-output.txt").write_text(out)
    print(out)  # the run's story, for the closing note
