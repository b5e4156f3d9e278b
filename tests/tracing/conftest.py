import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer

PROTOBUF = {"content-type": "application/x-protobuf"}


@pytest.fixture
def tclient(settings: Settings) -> Iterator[TestClient]:
    fast = settings.model_copy(update={"worker_enabled": False})
    with TestClient(create_app(fast), headers=bearer(ADMIN_KEY)) as client:
        yield client


def export(client: TestClient, message: ExportTraceServiceRequest, **headers: str) -> object:
    response = client.post("/v1/traces", content=message.SerializeToString(), headers={**PROTOBUF, **headers})
    assert response.status_code == 200, response.text
    return response


def wait_for_traces(client: TestClient, count: int, **params: str) -> list[dict[str, object]]:
    deadline = time.monotonic() + 5
    while True:
        items: list[dict[str, object]] = client.get("/api/v1/traces", params=params).json()["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.02)
