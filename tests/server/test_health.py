from fastapi.testclient import TestClient


def test_healthz_needs_no_key(client: TestClient) -> None:
    response = client.get("/healthz", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_and_worker(client: TestClient) -> None:
    body = client.get("/readyz", headers={"Authorization": ""}).json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is True


def test_readyz_reports_a_dead_database(client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    if runtime.engine.dialect.name != "postgresql":
        return
    good_url = runtime.engine.url
    from sqlalchemy import create_engine

    runtime.engine = create_engine(good_url.set(port=1), connect_args={"connect_timeout": 1})
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False


def test_openapi_documents_the_management_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/projects", "/api/v1/keys", "/api/v1/jobs", "/healthz", "/readyz"):
        assert path in spec["paths"]
