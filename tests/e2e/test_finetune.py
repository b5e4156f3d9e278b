"""Fine-tuning end to end on a real server with the bundled model: train a LoRA from a dataset, see the loss
and eval loss per step, get a registered version with lineage and an evaluation against the base model,
call it through the gateway (directly and as a canary), export it; and every failure the issue names fails
the job with its reason while keeping logs and checkpoints. Steps are few and sequences short: bounded."""

import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from keel.client.http import Client
from keel.local.runtime import installed
from tests.e2e.conftest import Server, clean_env, keel, start_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not installed(), reason="the `local` extra is not installed"),
]
SYSTEM = "Classify the ticket: billing or shipping. Answer with one word."
TICKETS = [
    ("I was charged twice", "billing"),
    ("Where is my parcel?", "shipping"),
    ("Refund my last invoice", "billing"),
    ("The box arrived damaged", "shipping"),
    ("My card was declined", "billing"),
    ("Tracking number does not work", "shipping"),
    ("Send me a receipt", "billing"),
    ("Deliver to another address", "shipping"),
]
QUICK = {"max_steps": 3, "batch_size": 2, "max_length": 96, "eval_steps": 2, "save_steps": 2, "lr": 3e-3}


def items() -> list[dict[str, Any]]:
    return [
        {
            "input": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}],
            "expected": label,
            "split": "test" if number % 4 == 0 else "train",
        }
        for number, (text, label) in enumerate(TICKETS)
    ]


def api_for(server: Server) -> httpx.Client:
    key = (server.data_dir / "admin.key").read_text().strip()
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120)


def cli(server: Server) -> dict[str, str]:
    key = (server.data_dir / "admin.key").read_text().strip()
    return clean_env(KEEL_URL=server.url, KEEL_API_KEY=key, COLUMNS="200")


def wait(
    api: httpx.Client, run_id: str, until: tuple[str, ...] = ("succeeded", "failed", "cancelled")
) -> Any:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        run = api.get(f"/api/v1/finetunes/{run_id}").json()
        if run["status"] in until:
            return run
        time.sleep(0.5)
    raise AssertionError(f"fine-tune {run_id} did not reach {until}: {run}")


def logs(api: httpx.Client, run: dict[str, Any]) -> str:
    return "\n".join(
        line["message"] for line in api.get(f"/api/v1/jobs/{run['job_id']}/logs").json()["items"]
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    running = start_server(
        tmp_path_factory.mktemp("finetune") / "data", KEEL_FINETUNE_THREADS="1", KEEL_LOCAL_THREADS="1"
    )
    with api_for(running) as api:
        assert api.post("/api/v1/datasets", json={"name": "tickets", "items": items()}).status_code == 201
    yield running
    running.stop()


def test_train_register_evaluate_serve_and_export(server: Server, tmp_path: Path) -> None:
    config = tmp_path / "ft.yaml"
    config.write_text(
        "base_model: local/smollm2-135m-instruct\ndataset: tickets\nmethod: lora\n"
        f"params: {json.dumps(QUICK)}\nregister_as: tickets-tuned\n"
        "evaluate: {evaluators: [exact_match], max_tokens: 4}\n"
    )
    run_id = keel("finetune", "start", str(config), "--detach", env=cli(server)).stdout.strip()
    api = api_for(server)
    run = wait(api, run_id)
    assert run["status"] == "succeeded", logs(api, run)
    assert run["model_version"] == "tickets-tuned@v1"
    assert run["system"]["device"] == "cpu"
    assert run["system"]["torch_threads"] == 1
    assert run["summary"]["train_items"] == 6
    assert run["summary"]["eval_items"] == 2
    assert 0 < run["summary"]["trainable_params"] < run["summary"]["total_params"] / 100

    metrics = api.get(f"/api/v1/finetunes/{run_id}/metrics").json()["items"]
    train = [m for m in metrics if m["kind"] == "train"]
    evals = {m["step"]: m["values"]["eval_loss"] for m in metrics if m["kind"] == "eval"}
    assert [m["step"] for m in train] == [1, 2, 3]
    assert all(m["values"]["loss"] > 0 and m["values"]["lr"] > 0 for m in train)
    assert set(evals) == {0, 2, 3}
    assert evals[3] < evals[0]

    version = api.get("/api/v1/models/tickets-tuned/versions/challenger").json()
    assert version["lineage"]["dataset"] == "tickets"
    assert version["lineage"]["dataset_version"] == 1
    assert version["lineage"]["params"]["r"] == 8
    assert version["lineage"]["job_id"] == run["job_id"]
    [evaluation] = version["evaluations"]
    assert evaluation["against"] == "local/smollm2-135m-instruct"
    assert evaluation["split"] == "test"
    assert evaluation["metrics"]["exact_match"]["n"] == 2, evaluation
    assert "evaluation of tickets-tuned@v1 vs local/smollm2-135m-instruct" in logs(api, run)

    listed = {m["id"] for m in api.get("/v1/models").json()["data"]}
    assert {"tickets-tuned@v1", "tickets-tuned@challenger", "tickets-tuned@latest"} <= listed
    ask = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "I was charged twice"}]
    direct = api.post("/v1/chat/completions", json={"model": "tickets-tuned@challenger", "messages": ask})
    assert direct.status_code == 200
    assert direct.json()["model"] == "tickets-tuned@challenger"
    route = {
        "name": "tickets",
        "targets": [
            {"provider": "local", "model": "smollm2-135m-instruct", "weight": 0.5, "variant": "base"},
            {"provider": "models", "model": "tickets-tuned@challenger", "weight": 0.5, "variant": "canary"},
        ],
    }
    assert api.post("/api/v1/routes", json=route).status_code in (200, 201)
    served = {
        api.post("/v1/chat/completions", json={"model": "tickets", "messages": ask, "max_tokens": 4}).json()[
            "model"
        ]
        for _ in range(12)
    }
    assert served == {"smollm2-135m-instruct", "tickets-tuned@challenger"}  # P(one side missing) = 2^-11
    missing = api.post("/v1/chat/completions", json={"model": "tickets-tuned@v9", "messages": ask})
    assert missing.status_code == 404
    assert "tickets-tuned@v1" in missing.json()["error"]["message"]

    assert (
        "champion → v1" in keel("models", "alias", "tickets-tuned", "champion", "1", env=cli(server)).stdout
    )
    sdk = Client(url=server.url, api_key=api.headers["Authorization"].split()[1])
    assert sdk.models.get("tickets-tuned@champion")["version"] == 1
    assert sdk.models.get("tickets-tuned")["aliases"] == {"challenger": 1, "champion": 1}
    assert [m["step"] for m in sdk.finetunes.metrics(run_id, after_step=2) if m["kind"] == "train"] == [3]
    assert sdk.finetunes.get(run_id)["model_version"] == "tickets-tuned@v1"
    shown = keel("models", "show", "tickets-tuned@champion", env=cli(server)).stdout
    assert "tickets-tuned@v1" in shown
    assert "exact_match" in shown
    assert "tickets-tuned" in keel("models", "list", env=cli(server)).stdout
    assert run_id in keel("finetune", "status", env=cli(server)).stdout
    logged = keel("finetune", "logs", run_id, "-f", env=cli(server)).stdout
    assert "registered tickets-tuned@v1 (alias challenger)" in logged
    assert logged.count("finished: succeeded") == 1

    with httpx.Client(base_url=server.url, timeout=60) as browser:  # the UI's pages for the run and version
        key = api.headers["Authorization"].split()[1]
        assert browser.post("/login", data={"key": key, "next": "/"}).status_code == 303
        run_page = browser.get(f"/finetunes/{run_id}").text
        assert "<svg" in run_page
        assert "train loss" in run_page
        assert "eval loss" in run_page
        model_page = browser.get("/models/tickets-tuned").text
        assert "exact_match" in model_page
        assert "champion → v1" in model_page

    merged = api.post("/api/v1/models/tickets-tuned/versions/champion/export", json={"format": "merged"})
    assert merged.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(merged.content), mode="r:*") as tar:
        names = set(tar.getnames())
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= names
    out = tmp_path / "adapter"
    exported = keel(
        "models", "export", "tickets-tuned@v1", "--format", "adapter", "-o", str(out), env=cli(server)
    )
    assert "adapter_model.safetensors" in exported.stdout
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 8


def start(api: httpx.Client, **config: Any) -> dict[str, Any]:
    response = api.post("/api/v1/finetunes", json={"dataset": "tickets", "evaluate": False, **config})
    assert response.status_code == 202, response.text
    return dict(response.json())


def test_failures_keep_logs_and_checkpoints(server: Server) -> None:
    api = api_for(server)
    diverged = wait(
        api, start(api, register_as="diverged", params={**QUICK, "lr": 1e6, "max_steps": 6})["id"]
    )
    assert diverged["status"] == "failed"
    assert "became NaN or infinite at step" in diverged["error"]
    assert "lower lr" in diverged["error"]
    assert "training" in logs(api, diverged)
    assert api.get("/api/v1/models/diverged").status_code == 404  # nothing half-registered

    too_long = wait(api, start(api, params={**QUICK, "max_length": 30})["id"])
    assert too_long["status"] == "failed"
    assert "6 examples are longer than max_length 30" in too_long["error"]
    assert "truncate: true" in too_long["error"]

    long_run = start(api, params={**QUICK, "max_steps": 400, "save_steps": 1})
    deadline = time.monotonic() + 120
    while not api.get(f"/api/v1/finetunes/{long_run['id']}/metrics").json()["items"]:
        assert time.monotonic() < deadline, "no step was reported"
        time.sleep(0.5)
    assert api.post(f"/api/v1/finetunes/{long_run['id']}/cancel").status_code == 200
    cancelled = wait(api, long_run["id"])
    assert cancelled["status"] == "cancelled"
    checkpoints = server.data_dir / "artifacts" / "runs" / long_run["id"] / "checkpoints"
    assert any(checkpoints.glob("checkpoint-*")) or "step" in logs(api, cancelled)
    assert (server.data_dir / "artifacts" / "runs" / long_run["id"] / "train.log").stat().st_size > 0
