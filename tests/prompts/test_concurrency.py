"""Concurrent pushes of one prompt get distinct version numbers, on SQLite and PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from keel.core.auth import Principal, Role
from keel.prompts import service
from keel.prompts.schemas import PromptCreate


def test_concurrent_pushes_get_distinct_versions(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    project_id = client.get("/api/v1/whoami").json()["project_id"]
    principal = Principal("key_test", project_id, Role.member)

    def one(n: int) -> int:
        data = PromptCreate(name="racy", template=f"version from writer {n}: {{{{ x }}}}")
        with runtime.sessions() as session:
            return service.push(session, principal, data)[1].version

    with ThreadPoolExecutor(8) as pool:
        versions = list(pool.map(one, range(16)))
    assert sorted(versions) == list(range(1, 17))
    stored = client.get("/api/v1/prompts/racy/versions").json()["items"]
    assert [v["version"] for v in stored] == list(range(1, 17))
    assert len({v["template"] for v in stored}) == 16
