"""Budgets on a real server: 1,000 concurrent requests against a budget that fits exactly 100 never spend a
cent more and count every one that was answered; a crash right after the replies loses no more than one lease
of spend, and what it loses stays reserved (refused, never spent twice)."""

import asyncio
import signal
import sqlite3
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, start_server
from tests.stubs.openai_stub import openai_stub

pytestmark = pytest.mark.e2e
CALL_USD = 0.013  # the stub answers "hi" with 11 prompt + 2 completion tokens, priced at $1,000 per M each
# Keel estimates 9 prompt tokens (32 bytes of messages / 4 + 1) + max_tokens: 13, so the estimate is the cost
ASK = {"model": "stub/m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with openai_stub() as url:
        yield url


def api(server: Server) -> httpx.Client:
    key = (server.data_dir / "admin.key").read_text().strip()
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def configure(server: Server, stub_url: str, usd_per_day: str) -> httpx.Client:
    client = api(server)
    provider = {"name": "stub", "kind": "openai", "base_url": stub_url, "api_key": "sk-x"}
    assert client.post("/api/v1/providers", json=provider).status_code == 201
    price = {"input_usd_per_mtok": "1000", "output_usd_per_mtok": "1000"}
    assert client.put("/api/v1/prices/m", json=price).status_code == 200
    assert client.put("/api/v1/limits/project", json={"usd_per_day": usd_per_day}).status_code == 200
    return client


async def burst(server: Server, count: int) -> list[httpx.Response]:
    key = (server.data_dir / "admin.key").read_text().strip()
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120, limits=limits
    ) as client:
        return await asyncio.gather(*(client.post("/v1/chat/completions", json=ASK) for _ in range(count)))


def spend(client: httpx.Client) -> float:
    return float(client.get("/api/v1/limits").json()["items"][0]["spent_today_usd"])


@pytest.mark.parametrize("own_server", ["sqlite", "postgresql"], indirect=True)
def test_a_thousand_concurrent_calls_never_overspend(own_server: Server, stub_url: str) -> None:
    client = configure(own_server, stub_url, f"{100 * CALL_USD:.3f}")
    replies = asyncio.run(burst(own_server, 1000))
    statuses = Counter(r.status_code for r in replies)
    assert statuses == {200: 100, 429: 900}, statuses  # the estimate is the real cost: exactly 100 fit
    refused = next(r for r in replies if r.status_code == 429).json()["error"]
    assert refused["code"] == "budget_exceeded"
    assert "project budget for" in refused["message"]
    assert spend(client) == pytest.approx(100 * CALL_USD)
    later = client.post("/v1/chat/completions", json=ASK)
    assert later.status_code == 429
    assert "$1.3 is spent" in later.json()["error"]["message"]
    traced = client.get("/api/v1/traces/aggregates", params={"bucket": "1d"}).json()["items"]
    assert sum(row["count"] for row in traced) == 100  # refused before any upstream call: nothing to trace
    assert sum(float(row["cost_usd"]) for row in traced) == pytest.approx(100 * CALL_USD)


def stored(data_dir: Any) -> tuple[int, int]:
    with sqlite3.connect(data_dir / "keel.db") as db:
        row = db.execute("SELECT spent_micros, reserved_micros FROM gateway_spend WHERE scope = 'project'")
        spent, reserved = row.fetchone()
    return int(spent), int(reserved)


def test_a_crash_after_the_replies_loses_at_most_one_lease(tmp_path: Any, stub_url: str) -> None:
    lease_usd = 0.1 * 10  # KEEL_BUDGET_LEASE_FRACTION of the $10 budget
    server = start_server(tmp_path / "data", KEEL_BUDGET_LEASE_FRACTION="0.1")
    configure(server, stub_url, "10")
    replies = asyncio.run(burst(server, 60))
    assert [r.status_code for r in replies] == [200] * 60
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)

    spent, reserved = stored(server.data_dir)
    true_cost = round(60 * CALL_USD * 1_000_000)
    assert spent <= true_cost
    assert true_cost - spent <= lease_usd * 1_000_000  # lost from the books: at most one lease
    assert spent + reserved >= true_cost  # and what was lost is still held back from the budget
    assert spent + reserved <= 10_000_000

    again = start_server(tmp_path / "data", KEEL_BUDGET_LEASE_FRACTION="0.1")
    try:
        client = api(again)
        assert client.post("/v1/chat/completions", json=ASK).status_code == 200
        assert spend(client) == pytest.approx(spent / 1_000_000 + CALL_USD)
        client.close()
    finally:
        code, _ = again.stop()
    assert code == 0
    spent_after, reserved_after = stored(again.data_dir)
    assert spent_after == spent + round(CALL_USD * 1_000_000)
    assert reserved_after == reserved  # a clean stop hands its own lease back; the crashed one stays held
