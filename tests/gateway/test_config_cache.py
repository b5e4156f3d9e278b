"""The configuration cache: one load however many requests wait, stale views served while one refreshes."""

import asyncio
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event


def _count_provider_loads(runtime: Any) -> list[str]:
    seen: list[str] = []

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM providers" in statement:
            seen.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", on_execute)
    return seen


def test_concurrent_cold_requests_load_the_config_once(gw: TestClient) -> None:
    runtime = gw.app.state.runtime  # type: ignore[attr-defined]
    project_id = gw.get("/api/v1/whoami").json()["project_id"]
    config = runtime.service("gateway").config
    config.invalidate(project_id)
    loads = _count_provider_loads(runtime)

    async def many() -> list[Any]:
        return await asyncio.gather(*(config.view(project_id) for _ in range(50)))

    views = asyncio.run(many())
    assert len(loads) == 1
    assert all(view is views[0] for view in views)
    assert "stub" in views[0].upstreams


def test_stale_view_is_served_while_one_refresh_runs(gw: TestClient) -> None:
    runtime = gw.app.state.runtime  # type: ignore[attr-defined]
    project_id = gw.get("/api/v1/whoami").json()["project_id"]
    config = runtime.service("gateway").config
    first = config.load(project_id)
    config.ttl = 0.0
    loads = _count_provider_loads(runtime)

    async def burst() -> list[Any]:
        views = await asyncio.gather(*(config.view(project_id) for _ in range(20)))
        for _ in range(100):
            if not config._loading:
                break
            await asyncio.sleep(0.01)
        return views

    views = asyncio.run(burst())
    assert all(view is first for view in views)  # nobody waited for the database
    assert len(loads) == 1  # one background refresh


def test_a_write_during_a_load_is_not_overwritten_by_it(gw: TestClient) -> None:
    runtime = gw.app.state.runtime  # type: ignore[attr-defined]
    project_id = gw.get("/api/v1/whoami").json()["project_id"]
    config = runtime.service("gateway").config
    config.invalidate(project_id)
    started = time.monotonic()

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM providers" in statement and time.monotonic() - started < 5:
            config.invalidate(project_id)  # another request wrote the config mid-load

    event.listen(runtime.engine, "before_cursor_execute", on_execute)
    config.load(project_id)
    event.remove(runtime.engine, "before_cursor_execute", on_execute)
    assert config.cached(project_id) is None
    assert gw.post("/api/v1/providers", json={"name": "late", "kind": "openai", "base_url": "http://x/v1"})
    assert "late" in asyncio.run(config.view(project_id)).upstreams


def test_a_provider_added_after_a_call_is_usable_at_once(gw: TestClient, stub_url: str) -> None:
    message = [{"role": "user", "content": "hi"}]
    assert gw.post("/v1/chat/completions", json={"model": "stub/m", "messages": message}).status_code == 200
    made = gw.post("/api/v1/providers", json={"name": "fresh", "kind": "openai", "base_url": stub_url})
    assert made.status_code == 201
    reply = gw.post("/v1/chat/completions", json={"model": "fresh/m", "messages": message})
    assert reply.status_code == 200, reply.text
    gw.patch(
        "/api/v1/providers/fresh", json={"base_url": "http://127.0.0.1:9/v1", "options": {"timeout_s": 1}}
    )
    moved = gw.post("/v1/chat/completions", json={"model": "fresh/m", "messages": message})
    assert moved.status_code == 502  # the update applies at once too
