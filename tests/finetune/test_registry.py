"""The model registry on SQLite and PostgreSQL: versions numbered under concurrency, aliases that move in one
statement, references (`@v3`, `@alias`, `@latest`), lineage, notes, isolation, no half-registered version."""

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import StatementError

from keel.finetune import service as registry
from tests.conftest import bearer


def adapter(tmp_path: Path, name: str = "adapter") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "adapter_config.json").write_text('{"r": 8}')
    (folder / "adapter_model.safetensors").write_bytes(b"\0" * 64)
    return folder


def register(client: TestClient, source: Path, name: str = "support", **extra: object) -> str:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    project_id = client.get("/api/v1/whoami").json()["project_id"]
    with runtime.sessions() as session:
        version = registry.register_version(
            session,
            runtime.service("finetune").store,
            source,
            project_id=project_id,
            author="test",
            name=name,
            base_model="local/smollm2-135m-instruct",
            lineage={"dataset": "tickets", "dataset_version": 1, **extra},
            metrics={"eval_loss": 0.5},
        )
        return f"{name}@v{version.version}"


def test_versions_aliases_and_references(client: TestClient, tmp_path: Path) -> None:
    source = adapter(tmp_path)
    assert register(client, source) == "support@v1"
    assert register(client, source) == "support@v2"
    model = client.get("/api/v1/models/support").json()
    assert model["latest_version"] == 2
    assert model["aliases"] == {"challenger": 2}

    moved = client.put("/api/v1/models/support/aliases/champion", json={"version": 1})
    assert moved.status_code == 200
    assert moved.json()["aliases"] == {"champion": 1, "challenger": 2}
    for ref, number in (("v1", 1), ("2", 2), ("champion", 1), ("challenger", 2), ("latest", 2)):
        assert client.get(f"/api/v1/models/support/versions/{ref}").json()["version"] == number
    first = client.get("/api/v1/models/support/versions/1").json()
    assert first["aliases"] == ["champion"]
    assert first["lineage"]["dataset"] == "tickets"
    assert first["metrics"] == {"eval_loss": 0.5}
    assert first["base_model"] == "local/smollm2-135m-instruct"

    noted = client.patch("/api/v1/models/support/versions/champion", json={"notes": "passed the gate"})
    assert noted.json()["notes"] == "passed the gate"
    assert [v["version"] for v in client.get("/api/v1/models/support/versions").json()["items"]] == [1, 2]
    assert client.delete("/api/v1/models/support/aliases/challenger").status_code == 204
    assert client.get("/api/v1/models/support").json()["aliases"] == {"champion": 1}
    assert [m["name"] for m in client.get("/api/v1/models").json()["items"]] == ["support"]


def test_bad_references_and_aliases(client: TestClient, tmp_path: Path) -> None:
    register(client, adapter(tmp_path))
    missing = client.get("/api/v1/models/support/versions/v9")
    assert missing.status_code == 404
    assert "has no version v9" in missing.json()["detail"]
    assert (
        client.get("/api/v1/models/support/versions/gold").json()["detail"]
        == "model 'support' has no alias 'gold'"
    )
    assert client.get("/api/v1/models/nope").status_code == 404
    looks_like_version = client.put("/api/v1/models/support/aliases/v2", json={"version": 1})
    assert looks_like_version.status_code == 422
    assert "look like a version" in looks_like_version.json()["detail"]
    no_such = client.put("/api/v1/models/support/aliases/champion", json={"version": 5})
    assert no_such.status_code == 404
    assert client.put("/api/v1/models/support/aliases/champion", json={"version": 0}).status_code == 422
    assert client.delete("/api/v1/models/support/aliases/gold").status_code == 404


def test_concurrent_registrations_get_distinct_numbers(client: TestClient, tmp_path: Path) -> None:
    source = adapter(tmp_path)
    names: list[str] = []
    threads = [threading.Thread(target=lambda: names.append(register(client, source))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(names) == [f"support@v{n}" for n in range(1, 7)]
    store = client.app.state.runtime.service("finetune").store  # type: ignore[attr-defined]
    assert len(list((store.root / "models").iterdir())) == 6


def test_a_failed_registration_leaves_nothing(client: TestClient, tmp_path: Path) -> None:
    with pytest.raises((StatementError, TypeError), match="not JSON serializable"):
        register(client, adapter(tmp_path), lineage_bad=object())  # the version row cannot be written
    assert client.get("/api/v1/models").json()["items"] == []
    store = client.app.state.runtime.service("finetune").store  # type: ignore[attr-defined]
    assert list((store.root / "models").iterdir()) == []  # the copied artifact was removed again


def test_projects_do_not_see_each_others_models(client: TestClient, tmp_path: Path) -> None:
    register(client, adapter(tmp_path))
    other = client.post("/api/v1/projects", json={"name": "other"}).json()["id"]
    key = client.post("/api/v1/keys", json={"name": "o", "role": "member", "project_id": other}).json()["key"]
    headers = bearer(key)
    assert client.get("/api/v1/models", headers=headers).json()["items"] == []
    assert client.get("/api/v1/models/support", headers=headers).status_code == 404
    refused = client.put("/api/v1/models/support/aliases/champion", json={"version": 1}, headers=headers)
    assert refused.status_code == 404
    models = client.get("/v1/models", headers=headers).json()["data"]
    assert not any(m["id"].startswith("support@") for m in models)
