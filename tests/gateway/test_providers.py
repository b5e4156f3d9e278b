"""Provider configuration: credentials encrypted at rest, never returned, project-scoped, validated."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from keel.core.errors import ConfigError, Unavailable
from keel.core.secrets import SecretBox, load_box, new_key
from tests.conftest import bearer

SECRET = "sk-live-0123456789abcdef"


def add(client: TestClient, **body: object) -> dict[str, object]:
    payload = {"name": "openai-main", "kind": "openai", "api_key": SECRET, **body}
    response = client.post("/api/v1/providers", json=payload)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_secret_is_encrypted_at_rest_and_never_returned(client: TestClient) -> None:
    created = add(client, base_url="http://127.0.0.1:8000/v1/")
    assert created["has_api_key"] is True
    assert created["base_url"] == "http://127.0.0.1:8000/v1"
    everything = [
        client.get("/api/v1/providers").text,
        client.get(f"/api/v1/providers/{created['id']}").text,
        client.get("/api/v1/providers/openai-main").text,
    ]
    assert all(SECRET not in body for body in everything)
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.engine.connect() as connection:
        stored = connection.execute(text("SELECT api_key_encrypted FROM providers")).scalar_one()
    assert SECRET not in stored
    assert runtime.secrets.decrypt(stored) == SECRET


def test_defaults_update_and_remove_key(client: TestClient) -> None:
    created = add(client)
    assert created["base_url"] == "https://api.openai.com/v1"
    assert created["options"] == {"timeout_s": 60.0, "headers": {}}
    updated = client.patch("/api/v1/providers/openai-main", json={"api_key": "", "options": {"timeout_s": 5}})
    assert updated.json()["has_api_key"] is False
    assert updated.json()["options"]["timeout_s"] == 5
    assert client.delete("/api/v1/providers/openai-main").status_code == 204
    assert client.get("/api/v1/providers/openai-main").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "nope"}, "unknown provider kind 'nope'; registered: anthropic, local, openai"),
        ({"base_url": "ftp://x"}, "must be an http(s) URL"),
        ({"base_url": "https://user:pw@host/v1"}, "must not carry credentials"),
        ({"kind": "anthropic", "api_key": None}, "needs an api_key"),
        ({"options": {"headers": {"Authorization": "Bearer x"}}}, "put credentials in api_key"),
        ({"options": {"timeout_s": 0}}, "greater than 0"),
    ],
)
def test_bad_provider_config_is_rejected(client: TestClient, body: dict[str, object], message: str) -> None:
    payload = {"name": "p", "kind": "openai", **body}
    response = client.post("/api/v1/providers", json={k: v for k, v in payload.items() if v is not None})
    assert response.status_code in (404, 422), response.text
    assert message in response.json()["detail"]
    assert client.get("/api/v1/providers").json()["items"] == []


def test_duplicate_names_conflict_and_projects_are_isolated(client: TestClient) -> None:
    add(client)
    assert client.post("/api/v1/providers", json={"name": "openai-main", "kind": "openai"}).status_code == 409
    project = client.post("/api/v1/projects", json={"name": "other"}).json()
    other = bearer(
        client.post("/api/v1/keys", json={"name": "k", "project_id": project["id"], "role": "admin"}).json()[
            "key"
        ]
    )
    assert client.get("/api/v1/providers", headers=other).json()["items"] == []
    assert client.get("/api/v1/providers/openai-main", headers=other).status_code == 404
    assert client.delete("/api/v1/providers/openai-main", headers=other).status_code == 404
    assert (
        client.post(
            "/api/v1/providers", json={"name": "openai-main", "kind": "openai"}, headers=other
        ).status_code
        == 201
    )


def test_members_cannot_configure_providers(client: TestClient) -> None:
    member = bearer(client.post("/api/v1/keys", json={"name": "m", "role": "member"}).json()["key"])
    response = client.post("/api/v1/providers", json={"name": "x", "kind": "openai"}, headers=member)
    assert response.status_code == 403
    kinds = client.get("/api/v1/providers/kinds", headers=member).json()["items"]
    assert {k["name"] for k in kinds} == {"openai", "anthropic", "local"}


def test_secret_key_file_and_wrong_key(tmp_path: Path) -> None:
    box = load_box(None, tmp_path / "secret.key")
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    token = box.encrypt("s3cret")
    assert load_box(None, tmp_path / "secret.key").decrypt(token) == "s3cret"
    with pytest.raises(Unavailable, match="cannot be decrypted"):
        SecretBox(new_key()).decrypt(token)
    with pytest.raises(ConfigError, match="KEEL_SECRET_KEY"):
        SecretBox("too-short")
