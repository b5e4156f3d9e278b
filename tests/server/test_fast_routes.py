"""Fast routes: plain ASGI hot paths still get request ids, the body limit and the usual error bodies."""

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi.testclient import TestClient

from keel.core.errors import InvalidInput
from keel.plugins.hookspecs import Register, hookimpl
from keel.server.app import create_app
from keel.server.fast import FastRequest, Reply
from keel.settings import Settings


class FastPlugin:
    @hookimpl
    def register_fast_routes(self, register: Register) -> None:
        async def echo(request: FastRequest) -> Reply:
            if request.body == b"bad":
                raise InvalidInput("body must not be 'bad'", param="body")
            if request.body == b"boom":
                raise RuntimeError("secret internals")
            return Reply(200, request.body[::-1], "text/plain", {"x-seen": request.header(b"x-in") or ""})

        async def chunks() -> AsyncIterator[bytes]:
            for part in (b"one ", b"two ", b"three"):
                yield part

        async def stream(request: FastRequest) -> Reply:
            return Reply(200, chunks(), "text/event-stream")

        register("POST", "/v1/echo", echo)
        register("POST", "/api/v1/stream", stream)


@pytest.fixture
def fast(settings: Settings) -> Iterator[TestClient]:
    small = settings.model_copy(update={"max_request_bytes": 64, "worker_enabled": False})
    with TestClient(create_app(small, plugins=[FastPlugin()]), raise_server_exceptions=False) as client:
        yield client


def test_fast_route_answers_with_request_id_and_headers(fast: TestClient) -> None:
    response = fast.post("/v1/echo", content=b"abc", headers={"x-in": "hi", "x-request-id": "req-42"})
    assert response.status_code == 200
    assert response.text == "cba"
    assert response.headers["x-seen"] == "hi"
    assert response.headers["x-request-id"] == "req-42"
    assert response.headers["content-type"] == "text/plain"


def test_fast_route_streams(fast: TestClient) -> None:
    response = fast.post("/api/v1/stream", content=b"")
    assert response.text == "one two three"
    assert response.headers["content-type"] == "text/event-stream"


def test_fast_route_errors_use_the_path_dialect_and_hide_internals(fast: TestClient) -> None:
    bad = fast.post("/v1/echo", content=b"bad")
    assert bad.status_code == 400  # /v1 answers a bad request as OpenAI does
    assert bad.json()["error"] == {
        "message": "body must not be 'bad'",
        "type": "invalid_request_error",
        "param": "body",
        "code": "invalid_input",
    }
    boom = fast.post("/v1/echo", content=b"boom")
    assert boom.status_code == 500
    assert boom.json()["error"]["code"] == "internal_error"
    assert "secret" not in boom.text


def test_fast_route_keeps_the_body_limit_and_other_methods_reach_fastapi(fast: TestClient) -> None:
    assert fast.post("/v1/echo", content=b"x" * 100).status_code == 413
    other = fast.get("/v1/echo")
    assert other.status_code in (404, 405)
    assert "error" in other.json()


def test_two_plugins_cannot_claim_one_fast_route(settings: Settings) -> None:
    with pytest.raises(Exception, match="already registered"):
        create_app(settings, plugins=[FastPlugin(), type("Again", (FastPlugin,), {})()])
