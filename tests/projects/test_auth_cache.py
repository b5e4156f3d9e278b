"""The principal cache: revocation is immediate on the server that took it, within the TTL on others."""

import time

from fastapi.testclient import TestClient

from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer


def test_revocation_is_immediate_here_and_within_ttl_elsewhere(settings: Settings) -> None:
    replicated = settings.model_copy(update={"auth_cache_seconds": 0.5, "worker_enabled": False})
    with (
        TestClient(create_app(replicated), headers=bearer(ADMIN_KEY)) as a,
        TestClient(create_app(replicated), headers=bearer(ADMIN_KEY)) as b,
    ):
        created = a.post("/api/v1/keys", json={"name": "short-lived"}).json()
        key = bearer(created["key"])
        assert a.get("/api/v1/whoami", headers=key).status_code == 200
        assert b.get("/api/v1/whoami", headers=key).status_code == 200
        a.delete(f"/api/v1/keys/{created['id']}")
        assert a.get("/api/v1/whoami", headers=key).status_code == 401
        time.sleep(0.6)
        assert b.get("/api/v1/whoami", headers=key).status_code == 401


def test_cache_never_outlives_key_expiry(settings: Settings) -> None:
    from datetime import UTC, datetime, timedelta

    cached = settings.model_copy(update={"auth_cache_seconds": 60, "worker_enabled": False})
    with TestClient(create_app(cached), headers=bearer(ADMIN_KEY)) as client:
        soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        key = bearer(client.post("/api/v1/keys", json={"name": "k", "expires_at": soon}).json()["key"])
        assert client.get("/api/v1/whoami", headers=key).status_code == 200
        time.sleep(2.1)
        refused = client.get("/api/v1/whoami", headers=key)
        assert refused.status_code == 401
        assert "expired" in refused.json()["detail"]
