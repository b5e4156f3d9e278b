"""A fine-tune config is checked before any job is queued: each mistake is a 422 that names it."""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keel.core.errors import InvalidInput
from keel.finetune.bases import check_base

CHAT = [{"role": "user", "content": "Where is my parcel?"}]


def dataset(client: TestClient, name: str, items: list[dict[str, Any]]) -> None:
    assert client.post("/api/v1/datasets", json={"name": name}).status_code == 201
    assert client.post(f"/api/v1/datasets/{name}/items", json={"items": items}).status_code in (200, 201)


def start(client: TestClient, **config: Any) -> Any:
    return client.post("/api/v1/finetunes", json={"dataset": "tickets", **config})


def test_bad_configs_are_refused_before_a_job_exists(client: TestClient, tmp_path: Path) -> None:
    dataset(
        client,
        "tickets",
        [{"input": CHAT, "expected": "shipping", "split": "train"}, {"input": CHAT, "split": "train"}],
    )
    shapes = start(client)
    assert shapes.status_code == 422
    assert "1 of 2 items cannot be trained on" in shapes.json()["detail"]
    assert "expected must be the answer to learn" in shapes.json()["detail"]

    missing = start(client, dataset="nope")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "dataset 'nope' not found"
    version = start(client, dataset="tickets@7")
    assert version.status_code == 404
    assert "has no version 7" in version.json()["detail"]
    split = start(client, eval_split="holdout")
    assert split.status_code == 422
    assert "has no split 'holdout' (it has: train)" in split.json()["detail"]

    hub = start(client, base_model="HuggingFaceTB/SmolLM2-360M-Instruct")
    assert hub.status_code == 422
    assert "cannot be found offline" in hub.json()["detail"]
    outside = start(client, base_model=str(tmp_path))
    assert outside.status_code == 422
    assert "KEEL_FINETUNE_MODEL_ROOTS" in outside.json()["detail"]
    qlora = start(client, method="qlora")
    assert qlora.status_code == 422
    assert "QLoRA needs bitsandbytes" in qlora.json()["detail"]

    params = start(client, params={"r": 0, "lr": -1, "lora_rank": 4})
    assert params.status_code == 422
    fields = {e["field"] for e in params.json()["errors"]}
    assert {"params.r", "params.lr", "params.lora_rank"} <= fields
    assert start(client, register_as="bad name!").status_code == 422
    assert client.get("/api/v1/finetunes").json()["items"] == []
    assert client.get("/api/v1/jobs").json()["items"] == []


def test_a_valid_config_queues_one_job(client: TestClient) -> None:
    items = [{"input": CHAT, "expected": "shipping"} for _ in range(12)]
    dataset(client, "tickets", items)
    response = start(client, register_as="tickets-tuned", params={"max_steps": 2}, evaluate=False)
    assert response.status_code == 202, response.text
    run = response.json()
    assert run["status"] in ("queued", "running")
    assert run["dataset_version"] == 1
    assert run["params"]["r"] == 8
    assert run["params"]["max_steps"] == 2
    assert run["params"]["lr"] == 1e-3
    assert run["summary"]["train_items"] + run["summary"]["eval_items"] == 12
    assert run["summary"]["eval_items"] > 0
    assert client.get(f"/api/v1/finetunes/{run['id']}").json()["job_id"] == run["job_id"]
    assert client.post(f"/api/v1/finetunes/{run['id']}/cancel").status_code == 200
    assert client.get("/api/v1/finetunes/ft_nope").status_code == 404


def test_base_models_under_the_allowed_roots(tmp_path: Path) -> None:
    model = tmp_path / "models" / "tiny"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    check_base(str(model), str(tmp_path / "models"))
    escape = tmp_path / "models" / ".." / "elsewhere"
    escape.mkdir()
    (escape / "config.json").write_text("{}")
    for bad in (str(escape), "relative/path", str(tmp_path / "models" / "absent")):
        with pytest.raises(InvalidInput):
            check_base(bad, str(tmp_path / "models"))
