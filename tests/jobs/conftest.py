"""Job kinds for tests, registered through the public plugin hook like any third-party plugin."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keel.jobs.context import JobContext
from keel.plugins.hookspecs import Register, hookimpl
from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer


def steps(ctx: JobContext) -> dict[str, Any]:
    total = int(ctx.params.get("steps", 3))
    for step in range(total):
        ctx.progress(step / total, f"step {step + 1}/{total}")
        ctx.log(f"did step {step + 1}")
        time.sleep(float(ctx.params.get("sleep", 0.01)))
    return {"steps": total, "attempt": ctx.attempt}


def boom(ctx: JobContext) -> None:
    raise ValueError("the input had no rows")


def wait_for_cancel(ctx: JobContext) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ctx.check()
        time.sleep(0.01)
    raise TimeoutError("never cancelled")


class JobsPlugin:
    @hookimpl
    def register_job_kinds(self, register: Register) -> None:
        register("test.steps", steps)
        register("test.boom", boom)
        register("test.wait", wait_for_cancel)


def make_client(settings: Settings, **overrides: Any) -> TestClient:
    app = create_app(settings.model_copy(update=overrides), plugins=[JobsPlugin()])
    return TestClient(app, headers=bearer(ADMIN_KEY))


@pytest.fixture
def jobs_client(settings: Settings) -> Iterator[TestClient]:
    with make_client(settings) as client:
        yield client


def wait_for(client: TestClient, job_id: str, statuses: set[str], timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in statuses or time.monotonic() > deadline:
            return job
        time.sleep(0.02)
