from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer
from tests.stubs.openai_stub import SEEN, openai_stub


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with openai_stub() as url:
        yield url


@pytest.fixture
def gw(settings: Settings, stub_url: str) -> Iterator[TestClient]:
    """An app with one OpenAI-compatible provider (`stub`) pointing at the local stub, and a dead one."""
    SEEN.clear()
    quiet = settings.model_copy(update={"worker_enabled": False})
    with TestClient(create_app(quiet), headers=bearer(ADMIN_KEY)) as client:
        for body in (
            {"name": "stub", "kind": "openai", "base_url": stub_url, "api_key": "sk-upstream-secret"},
            {
                "name": "dead",
                "kind": "openai",
                "base_url": "http://127.0.0.1:9/v1",
                "options": {"timeout_s": 2},
            },
        ):
            assert client.post("/api/v1/providers", json=body).status_code == 201
        yield client
