"""Bad input gets a precise 4xx in the right dialect, never a 500 or a traceback, and writes nothing."""

from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from keel.plugins.hookspecs import Register, hookimpl
from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer


def test_malformed_json_is_400_and_writes_nothing(client: TestClient) -> None:
    before = client.get("/api/v1/projects").json()["items"]
    response = client.post(
        "/api/v1/projects", content=b'{"name": "a"', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_json"
    assert "not valid JSON" in response.json()["detail"]
    assert client.get("/api/v1/projects").json()["items"] == before


def test_body_that_is_not_json_says_so(client: TestClient) -> None:
    response = client.post("/api/v1/projects", content=b"name=a", headers={"content-type": "text/plain"})
    assert response.status_code == 400
    assert "Content-Type: application/json" in response.json()["detail"]


def test_wrong_types_and_unknown_fields_name_each_field(client: TestClient) -> None:
    response = client.post("/api/v1/projects", json={"name": 3, "colour": "red"})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"name", "colour"}
    assert "colour: Extra inputs are not permitted" in response.json()["detail"]


def test_oversized_body_is_413_by_header_and_by_stream(settings: Settings) -> None:
    small = settings.model_copy(update={"max_request_bytes": 2048})
    with TestClient(create_app(small), headers=bearer(ADMIN_KEY)) as client:
        declared = client.post("/api/v1/projects", json={"name": "x" * 5000})
        assert declared.status_code == 413
        assert "2048-byte limit" in declared.json()["detail"]

        def chunks() -> Iterator[bytes]:
            yield b'{"name": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'"}'

        streamed = client.post(
            "/api/v1/projects", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        openai_style = client.post("/v1/chat/completions", content=b"z" * 4096)
        assert openai_style.status_code == 413
        assert openai_style.json()["error"]["code"] == "payload_too_large"
        assert [p["name"] for p in client.get("/api/v1/projects").json()["items"]] == ["default"]


def test_v1_errors_use_openai_shape(client: TestClient) -> None:
    unknown = client.get("/v1/nothing-here")
    assert unknown.status_code == 404
    error = unknown.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "not_found_error"
    unauthorized = client.get("/v1/nothing-here", headers={"Authorization": "Bearer keel_wrong"})
    assert unauthorized.status_code in (401, 404)


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces\n"})
    assert generated.headers["x-request-id"].startswith("req_")
    error = client.get("/api/v1/projects/prj_nope")
    assert error.headers["x-request-id"].startswith("req_")


def test_unknown_route_and_wrong_method(client: TestClient) -> None:
    assert client.get("/api/v1/nope").json()["code"] == "not_found"
    wrong = client.put("/api/v1/projects")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"


class ExplodingPlugin:
    @hookimpl
    def register_routers(self, register: Register) -> None:
        router = APIRouter()

        @router.get("/api/v1/explode")
        def explode() -> None:
            raise RuntimeError("secret internal detail")

        register(router)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_unexpected_error_is_500_without_traceback(settings: Settings) -> None:
    app = create_app(settings, plugins=[ExplodingPlugin()])
    with TestClient(app, headers=bearer(ADMIN_KEY), raise_server_exceptions=False) as client:
        response = client.get("/api/v1/explode")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
