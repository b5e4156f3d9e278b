"""One project's key must never read or change another project's data, even when it knows the ids."""

from fastapi.testclient import TestClient

from tests.conftest import bearer
from tests.projects.test_keys import make_project_key


def test_project_key_sees_only_its_project(client: TestClient) -> None:
    a_id, a_key = make_project_key(client, "team-a")
    b_id, b_key = make_project_key(client, "team-b")
    listed = client.get("/api/v1/projects", headers=bearer(a_key)).json()["items"]
    assert [p["id"] for p in listed] == [a_id]
    assert client.get("/api/v1/keys", params={"project_id": b_id}, headers=bearer(a_key)).status_code == 404
    own_keys = client.get("/api/v1/keys", headers=bearer(a_key)).json()["items"]
    assert {k["project_id"] for k in own_keys} == {a_id}


def test_guessing_another_projects_ids_looks_like_not_found(client: TestClient) -> None:
    a_id, a_key = make_project_key(client, "team-a")
    b_id, b_key = make_project_key(client, "team-b")
    b_keys = client.get("/api/v1/keys", headers=bearer(b_key)).json()["items"]
    b_key_id = b_keys[0]["id"]
    job = client.post("/api/v1/jobs", json={"kind": "maintenance.prune_jobs"}, headers=bearer(b_key)).json()
    missing_project = client.get("/api/v1/projects/prj_01J000000000000000000000000", headers=bearer(a_key))
    probes = {
        ("GET", f"/api/v1/projects/{b_id}"): None,
        ("PATCH", f"/api/v1/projects/{b_id}"): {"name": "pwned"},
        ("DELETE", f"/api/v1/projects/{b_id}"): None,
        ("GET", f"/api/v1/keys/{b_key_id}"): None,
        ("DELETE", f"/api/v1/keys/{b_key_id}"): None,
        ("GET", f"/api/v1/jobs/{job['id']}"): None,
        ("GET", f"/api/v1/jobs/{job['id']}/logs"): None,
        ("POST", f"/api/v1/jobs/{job['id']}/cancel"): None,
    }
    for (method, path), body in probes.items():
        response = client.request(method, path, json=body, headers=bearer(a_key))
        assert response.status_code == 404, (method, path, response.text)
        assert b_id not in response.text or "projects" in path
    assert missing_project.status_code == 404
    create_in_b = client.post("/api/v1/keys", json={"name": "x", "project_id": b_id}, headers=bearer(a_key))
    assert create_in_b.status_code == 404
    assert client.get(f"/api/v1/projects/{b_id}").json()["name"] == "team-b"
    assert client.get(f"/api/v1/keys/{b_key_id}").json()["revoked_at"] is None
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=bearer(b_key)).json()["cancel_requested"] is False
    assert all(
        j["project_id"] == a_id for j in client.get("/api/v1/jobs", headers=bearer(a_key)).json()["items"]
    )


def test_only_instance_admin_creates_projects(client: TestClient) -> None:
    _, a_key = make_project_key(client, "team-a")
    response = client.post("/api/v1/projects", json={"name": "sneaky"}, headers=bearer(a_key))
    assert response.status_code == 403
    assert "instance admin" in response.json()["detail"]


def test_project_admin_cannot_revoke_instance_admin_key(client: TestClient) -> None:
    default_id = client.get("/api/v1/whoami").json()["project_id"]
    admin_key_id = client.get("/api/v1/whoami").json()["key_id"]
    created = client.post(
        "/api/v1/keys", json={"name": "local-admin", "role": "admin", "project_id": default_id}
    )
    local_admin = created.json()["key"]
    response = client.delete(f"/api/v1/keys/{admin_key_id}", headers=bearer(local_admin))
    assert response.status_code == 404
    assert client.get("/api/v1/whoami").status_code == 200
