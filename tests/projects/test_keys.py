from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from keel.projects.keys import hash_secret
from keel.projects.models import ApiKey
from tests.conftest import bearer


def make_project_key(client: TestClient, name: str, role: str = "admin") -> tuple[str, str]:
    project = client.post("/api/v1/projects", json={"name": name})
    assert project.status_code == 201, project.text
    key = client.post("/api/v1/keys", json={"project_id": project.json()["id"], "role": role, "name": "k"})
    assert key.status_code == 201, key.text
    return project.json()["id"], key.json()["key"]


def test_key_is_stored_hashed_and_shown_once(client: TestClient) -> None:
    created = client.post("/api/v1/keys", json={"name": "ci", "role": "viewer"}).json()
    secret = created["key"]
    assert secret.startswith("keel_")
    assert created["prefix"] == secret[:12]
    sessions = client.app.state.runtime.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.id == created["id"]))
        assert row.secret_hash == hash_secret(secret)
        assert secret not in {getattr(row, c) for c in ("name", "prefix", "secret_hash", "id")}
    listed = client.get("/api/v1/keys").json()["items"]
    assert created["id"] in {k["id"] for k in listed}
    assert all("key" not in k for k in listed)
    assert client.get(f"/api/v1/keys/{created['id']}").json()["role"] == "viewer"


def test_new_key_authenticates_with_its_role(client: TestClient) -> None:
    _, viewer = make_project_key(client, "team-view", role="viewer")
    who = client.get("/api/v1/whoami", headers=bearer(viewer)).json()
    assert who["role"] == "viewer"
    assert who["instance_admin"] is False
    denied = client.post("/api/v1/keys", json={"name": "x"}, headers=bearer(viewer))
    assert denied.status_code == 403
    assert "admin role" in denied.json()["detail"]


def test_revoked_key_is_refused_with_reason(client: TestClient) -> None:
    created = client.post("/api/v1/keys", json={"name": "temp"}).json()
    assert client.get("/api/v1/whoami", headers=bearer(created["key"])).status_code == 200
    revoked = client.delete(f"/api/v1/keys/{created['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    refused = client.get("/api/v1/whoami", headers=bearer(created["key"]))
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert refused.headers["www-authenticate"] == "Bearer"


def test_expired_key_is_refused(client: TestClient) -> None:
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()  # back-dated below; 1 s raced a busy box
    created = client.post("/api/v1/keys", json={"name": "short", "expires_at": soon}).json()
    sessions = client.app.state.runtime.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        row = session.get(ApiKey, created["id"])
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.commit()
    refused = client.get("/api/v1/whoami", headers=bearer(created["key"]))
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


def test_expiry_in_the_past_is_rejected(client: TestClient) -> None:
    response = client.post("/api/v1/keys", json={"name": "old", "expires_at": "2001-01-01T00:00:00Z"})
    assert response.status_code == 422
    assert "in the past" in response.json()["detail"]


def test_bad_credentials_get_precise_401s(client: TestClient) -> None:
    cases = {
        None: "missing Authorization",
        "Basic abc": "must be 'Bearer <key>'",
        "Bearer nope": "malformed API key",
        "Bearer keel_doesnotexist": "invalid API key",
    }
    for header, message in cases.items():
        headers = {"Authorization": header} if header else {"Authorization": ""}
        response = client.get("/api/v1/projects", headers=headers)
        assert response.status_code == 401, header
        assert message in response.json()["detail"]
        assert response.headers["content-type"] == "application/problem+json"


def test_project_names_are_unique_and_validated(client: TestClient) -> None:
    assert client.post("/api/v1/projects", json={"name": "alpha"}).status_code == 201
    again = client.post("/api/v1/projects", json={"name": "alpha"})
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]
    bad = client.post("/api/v1/projects", json={"name": "../etc"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "name"


def test_projects_paginate_with_cursor(client: TestClient) -> None:
    for number in range(5):
        client.post("/api/v1/projects", json={"name": f"p{number}"})
    seen: list[str] = []
    cursor = None
    while True:
        page = client.get("/api/v1/projects", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        seen += [p["name"] for p in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(["default", "p0", "p1", "p2", "p3", "p4"])
    assert client.get("/api/v1/projects", params={"cursor": "!!!"}).status_code == 422
    assert client.get("/api/v1/projects", params={"limit": 0}).status_code == 422


def test_rename_and_delete_project_cascades_keys(client: TestClient) -> None:
    project_id, key = make_project_key(client, "doomed")
    renamed = client.patch(f"/api/v1/projects/{project_id}", json={"name": "renamed"})
    assert renamed.json()["name"] == "renamed"
    assert client.delete(f"/api/v1/projects/{project_id}").status_code == 204
    assert client.get(f"/api/v1/projects/{project_id}").status_code == 404
    assert client.get("/api/v1/whoami", headers=bearer(key)).status_code == 401


def test_admin_cannot_delete_own_project(client: TestClient) -> None:
    own = client.get("/api/v1/whoami").json()["project_id"]
    response = client.delete(f"/api/v1/projects/{own}")
    assert response.status_code == 409
