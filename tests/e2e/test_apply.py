"""`keel apply -f keel.yaml` against a real server: dry run, apply, re-apply, and refusals."""

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, clean_env, keel

pytestmark = pytest.mark.e2e

CONFIG = """
providers:
  - name: vllm
    kind: openai
    base_url: http://127.0.0.1:8000/v1
    options: {timeout_s: 30}
  - name: openai-main
    kind: openai
    api_key_env: TEST_OPENAI_KEY
routes:
  - name: smart
    targets: [{provider: openai-main, model: gpt-4o, weight: 9}, {provider: vllm, model: my-lora, weight: 1}]
    fallbacks: [{provider: vllm, model: llama-3.1-8b}]
    sticky: user
prices:
  "gpt-4o*": {input_usd_per_mtok: 2.5, output_usd_per_mtok: 10}
limits:
  project: {usd_per_day: 20, requests_per_minute: 600}
prompts:
  - name: support-answer
    messages:
      - {role: system, content: "Answer in one word."}
      - {role: user, content: "What is the capital of {{ country }}?"}
    model: smart
    params: {temperature: 0}
    labels: [production]
"""


def test_apply_is_a_diff_then_a_write_then_a_no_op(server: Server, tmp_path: Path) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    env = clean_env(KEEL_URL=server.url, KEEL_API_KEY=key, TEST_OPENAI_KEY="sk-test-123", COLUMNS="200")
    path = tmp_path / "keel.yaml"
    path.write_text(CONFIG)
    dry = keel("apply", "-f", str(path), "--dry-run", env=env)
    assert "+ providers/vllm" in dry.stdout
    assert "+ routes/smart" in dry.stdout
    assert "+ prices/gpt-4o*" in dry.stdout
    assert "+ limits/project" in dry.stdout
    assert "+ prompts/support-answer" in dry.stdout
    assert "dry run: nothing written" in dry.stdout
    assert "vllm" not in keel("providers", "list", "--json", env=env).stdout
    first = keel("apply", "-f", str(path), env=env)
    assert "applied 6 change(s)" in first.stdout
    again = keel("apply", "-f", str(path), env=env)
    assert "= routes/smart" in again.stdout
    assert "= prices/gpt-4o*" in again.stdout
    assert "= providers/vllm" in again.stdout
    assert "= limits/project" in again.stdout
    assert "= prompts/support-answer" in again.stdout
    assert "~ providers/openai-main (api_key (set from environment))" in again.stdout
    assert "applied 1 change(s)" in again.stdout
    path.write_text(CONFIG.replace("weight: 9", "weight: 8").replace("temperature: 0", "temperature: 1"))
    changed = keel("apply", "-f", str(path), "--dry-run", env=env)
    assert "~ routes/smart (targets)" in changed.stdout
    assert "~ prompts/support-answer (params)" in changed.stdout
    keel("apply", "-f", str(path), env=env)
    shown = json.loads(keel("prompts", "show", "support-answer@production", "--json", env=env).stdout)
    assert shown["version"] == 2
    assert shown["params"] == {"temperature": 1}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("providers:\n  - {name: p, kind: openai, api_key: sk-literal}\n", "keys do not belong in files"),
        (
            "providers:\n  - {name: p, kind: openai, api_key_env: NOT_SET_ANYWHERE}\n",
            "NOT_SET_ANYWHERE is empty",
        ),
        ("promts: {}\n", "unknown section(s) promts"),
        ("- just a list\n", "must hold a mapping"),
        ("routes: [\n", "cannot read"),
    ],
)
def test_apply_refuses_bad_files(server: Server, tmp_path: Path, config: str, message: str) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    path = tmp_path / "keel.yaml"
    path.write_text(config)
    result = keel(
        "apply",
        "-f",
        str(path),
        env=clean_env(KEEL_URL=server.url, KEEL_API_KEY=key, COLUMNS="200"),
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


GUARDED = """
guardrails:
  - name: no-pii
    input: [{check: pii, action: redact}, {check: secrets, action: block}]
    output: [{check: pii, action: redact, params: {types: [EMAIL_ADDRESS]}}]
    refusal: Not that.
routes:
  - name: careful
    targets: [{provider: local, model: smollm2-135m-instruct}]
    guardrails: no-pii
"""


def test_apply_writes_guardrail_policies_before_the_routes_that_apply_them(
    server: Server, tmp_path: Path
) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    env = clean_env(KEEL_URL=server.url, KEEL_API_KEY=key, COLUMNS="200")
    path = tmp_path / "guarded.yaml"
    path.write_text(GUARDED)
    first = keel("apply", "-f", str(path), env=env)
    assert "+ guardrails/no-pii" in first.stdout
    assert "+ routes/careful" in first.stdout
    assert "applied 2 change(s)" in first.stdout
    again = keel("apply", "-f", str(path), env=env)
    assert "= guardrails/no-pii" in again.stdout
    assert "applied 0 change(s)" in again.stdout
    path.write_text(GUARDED.replace("Not that.", "No."))
    assert "~ guardrails/no-pii (refusal)" in keel("apply", "-f", str(path), "--dry-run", env=env).stdout


WATCHED = """
alerts:
  - name: careful-errors
    metric: error_rate
    filters: {route: careful}
    threshold: 0.05
    window_s: 300
    min_count: 20
    channels: [{type: email, to: [oncall@example.com]}]
"""


def test_apply_writes_alert_rules(server: Server, tmp_path: Path) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    env = clean_env(KEEL_URL=server.url, KEEL_API_KEY=key, COLUMNS="200")
    path = tmp_path / "alerts.yaml"
    path.write_text(WATCHED)
    assert "+ alerts/careful-errors" in keel("apply", "-f", str(path), env=env).stdout
    assert "= alerts/careful-errors" in keel("apply", "-f", str(path), env=env).stdout
    listed = keel("alerts", "rules", env=env).stdout
    assert "careful-errors" in listed
    assert "error_rate" in listed
    assert keel("alerts", "history", "--json", env=env).stdout.strip() == "[]"
    path.write_text(WATCHED.replace("0.05", "0.1"))
    assert "~ alerts/careful-errors (threshold)" in keel("apply", "-f", str(path), env=env).stdout
    path.write_text(WATCHED.replace("error_rate", "vibes"))
    refused = keel("apply", "-f", str(path), env=env, check=False)
    assert refused.returncode != 0
    assert "unknown metric 'vibes'" in refused.stdout + refused.stderr


RELEASED = """
providers:
  - name: vllm
    kind: openai
    base_url: http://127.0.0.1:9/v1
routes:
  - name: released
    targets: [{provider: vllm, model: support-v1}]
    canary:
      target: {provider: vllm, model: support-v2}
      steps: [5, 25, 50, 100]
      interval: 2m
      min_calls: 200
      metrics: [{name: error_rate}, {name: latency_p95, allowed_change: 0.3}]
      on_pass: promote
      on_fail: rollback
"""


def test_apply_starts_a_canary_and_keel_canary_overrules_it(server: Server, tmp_path: Path) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    env = clean_env(KEEL_URL=server.url, KEEL_API_KEY=key, COLUMNS="200")
    path = tmp_path / "released.yaml"
    path.write_text(RELEASED)
    assert "+ routes/released" in keel("apply", "-f", str(path), env=env).stdout
    assert "= routes/released" in keel("apply", "-f", str(path), env=env).stdout  # the release goes on
    status = keel("canary", "status", "released", env=env).stdout
    assert "running" in status
    assert "vllm/support-v2 at 5%" in status
    assert "waiting for data" in status
    shown = json.loads(keel("canary", "status", "released", "--json", env=env).stdout)
    assert shown["steps"] == [5, 25, 50, 100]
    assert keel("canary", "pause", "released", "--reason", "freeze", env=env).returncode == 0
    paused = json.loads(keel("canary", "status", "released", "--json", env=env).stdout)
    assert paused["state"] == "paused"
    assert paused["decisions"][0]["reason"] == "freeze"
    refused = keel("canary", "resume", "nowhere", env=env, check=False)
    assert refused.returncode == 1
    assert "not found" in refused.stderr
    assert keel("canary", "promote", "released", env=env).returncode == 0
    assert "= routes/released" in keel("apply", "-f", str(path), env=env).stdout  # promoted: still a no-op
