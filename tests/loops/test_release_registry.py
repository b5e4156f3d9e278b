"""A canary of a registry version moves the registry with it: promotion gives the candidate the `champion`
alias (the old champion is restored by a rollback after it), a rollback marks the candidate rejected with
the reason, on SQLite and PostgreSQL."""

from pathlib import Path

from fastapi.testclient import TestClient

from tests.finetune.test_registry import adapter, register


def release(client: TestClient, tmp_path: Path) -> None:
    source = adapter(tmp_path)
    assert register(client, source) == "support@v1"
    assert register(client, source) == "support@v2"
    assert client.put("/api/v1/models/support/aliases/champion", json={"version": 1}).status_code == 200
    body = {
        "name": "support-chat",
        "targets": [{"provider": "models", "model": "support@v1"}],
        "canary": {"target": {"provider": "models", "model": "support@v2"}, "min_calls": 500},
    }
    reply = client.post("/api/v1/routes", json=body)
    assert reply.status_code == 200, reply.text


def test_promotion_crowns_the_candidate_and_a_rollback_restores_the_champion(
    client: TestClient, tmp_path: Path
) -> None:
    release(client, tmp_path)
    promoted = client.post("/api/v1/routes/support-chat/canary/promote", json={"reason": "looks good"})
    assert promoted.status_code == 200, promoted.text
    assert client.get("/api/v1/models/support").json()["aliases"]["champion"] == 2
    route = client.get("/api/v1/routes/support-chat").json()
    assert [t["model"] for t in route["targets"]] == ["support@v2"]

    rolled = client.post("/api/v1/routes/support-chat/canary/rollback", json={"reason": "answers got worse"})
    assert rolled.json()["state"] == "rolled_back"
    assert client.get("/api/v1/models/support").json()["aliases"]["champion"] == 1
    assert [t["model"] for t in client.get("/api/v1/routes/support-chat").json()["targets"]] == ["support@v1"]
    version = client.get("/api/v1/models/support/versions/2").json()
    assert version["status"] == "rejected"
    assert "answers got worse" in version["status_reason"]


def test_a_rolled_back_candidate_is_rejected_and_the_champion_stays(
    client: TestClient, tmp_path: Path
) -> None:
    release(client, tmp_path)
    rolled = client.post("/api/v1/routes/support-chat/canary/rollback")
    assert rolled.json()["weight"] == 0
    assert client.get("/api/v1/models/support").json()["aliases"]["champion"] == 1
    assert client.get("/api/v1/models/support/versions/2").json()["status"] == "rejected"
    assert client.get("/api/v1/models/support/versions/1").json()["status"] == "ready"
    again = client.post("/api/v1/routes/support-chat/canary/rollback")
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
