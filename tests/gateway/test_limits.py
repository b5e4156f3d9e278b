"""Budgets hold under concurrency (reserve, then settle); rate limits answer OpenAI-style 429s."""

import threading

import openai
import pytest
from fastapi.testclient import TestClient

from keel.gateway import service
from tests.conftest import ADMIN_KEY, bearer
from tests.gateway.test_chat import sdk

HI = [{"role": "user", "content": "hi"}]


def test_requests_per_minute_per_key(gw: TestClient) -> None:
    key = gw.post("/api/v1/keys", json={"name": "app", "role": "member"}).json()
    assert gw.put(f"/api/v1/limits/{key['id']}", json={"requests_per_minute": 2}).status_code == 200
    client = openai.OpenAI(base_url="http://testserver/v1", api_key=key["key"], http_client=gw, max_retries=0)
    for _ in range(2):
        client.chat.completions.create(model="stub/m", messages=HI)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="stub/m", messages=HI)
    assert "rate limit reached for key" in info.value.message
    assert int(info.value.response.headers["retry-after"]) >= 1
    sdk(gw).chat.completions.create(model="stub/m", messages=HI)  # other keys are not limited


def test_tokens_per_minute_for_the_project(gw: TestClient) -> None:
    gw.put("/api/v1/limits/project", json={"tokens_per_minute": 20})
    client = sdk(gw)
    client.chat.completions.create(model="stub/m", messages=HI)  # 13 tokens
    client.chat.completions.create(model="stub/m", messages=HI)  # 26 tokens in the window now
    with pytest.raises(openai.RateLimitError, match="tokens 20/min"):
        client.chat.completions.create(model="stub/m", messages=HI)


def test_daily_budget_stops_spending_and_reports_spend(gw: TestClient) -> None:
    gw.put("/api/v1/prices/m", json={"input_usd_per_mtok": "1000", "output_usd_per_mtok": "1000"})
    gw.put("/api/v1/limits/project", json={"usd_per_day": "0.03"})
    client = sdk(gw)
    client.chat.completions.create(model="stub/m", messages=HI, max_tokens=5)  # 13 tokens: $0.013
    client.chat.completions.create(model="stub/m", messages=HI, max_tokens=5)  # $0.026 spent
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="stub/m", messages=HI, max_tokens=5)
    assert info.value.code == "budget_exceeded"
    assert "project budget for" in info.value.message
    assert "$0.03" in info.value.message
    limits = gw.get("/api/v1/limits").json()["items"]
    assert limits[0]["spent_today_usd"] == "0.026"
    assert limits[0]["spent_this_month_usd"] is None  # no monthly budget: not counted, so not a 0
    gw.put("/api/v1/limits/project", json={"usd_per_day": "0.03", "usd_per_month": "1"})
    both = gw.get("/api/v1/limits").json()["items"][0]
    assert both["spent_today_usd"] == "0.026"
    assert both["spent_this_month_usd"] == "0"  # counted from when the monthly budget was set


def test_reservations_never_overspend_under_concurrency(gw: TestClient) -> None:
    runtime = gw.app.state.runtime  # type: ignore[attr-defined]
    project = gw.get("/api/v1/whoami").json()["project_id"]
    granted: list[bool] = []
    lock = threading.Lock()

    def attempt() -> None:
        with runtime.sessions() as session:
            ok = service.reserve(session, project, [("project", "d:2026-01-01", 10)], 3) is None
        with lock:
            granted.append(ok)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 3
    with runtime.sessions() as session:
        service.settle(session, project, [("project", "d:2026-01-01")], 3, 2)
        assert service.spent(session, project, "project", "d:2026-01-01") == 2


def test_limit_scopes_are_checked(gw: TestClient) -> None:
    assert gw.put("/api/v1/limits/key_01NOTAREALKEY000000000000", json={"usd_per_day": 1}).status_code == 404
    assert gw.put("/api/v1/limits/project", json={"usd_per_day": -1}).status_code == 422
    member = bearer(gw.post("/api/v1/keys", json={"name": "m", "role": "member"}).json()["key"])
    assert gw.put("/api/v1/limits/project", json={"usd_per_day": 1}, headers=member).status_code == 403
    assert gw.delete("/api/v1/limits/project").status_code == 404
    assert ADMIN_KEY


def test_refusals_come_before_retrieval_and_a_refused_call_gives_its_hold_back(gw: TestClient) -> None:
    gw.put("/api/v1/prices/m", json={"input_usd_per_mtok": "1000", "output_usd_per_mtok": "1000"})
    gw.put("/api/v1/limits/project", json={"usd_per_day": "0.013"})  # one call: 13 tokens estimated and spent
    ask = {"model": "stub/m", "messages": HI, "max_tokens": 4}
    grounded = {**ask, "knowledge": {"bases": ["no-such-base"]}}
    missing = gw.post("/v1/chat/completions", json=grounded)
    assert missing.status_code == 404  # admitted (the budget held the estimate), then the base is missing
    assert gw.post("/v1/chat/completions", json=ask).status_code == 200  # the hold was given back
    spent = gw.post("/v1/chat/completions", json=ask)
    assert spent.json()["error"]["code"] == "budget_exceeded"

    key = gw.post("/api/v1/keys", json={"name": "rag", "role": "member"}).json()
    assert gw.put(f"/api/v1/limits/{key['id']}", json={"requests_per_minute": 1}).status_code == 200
    assert gw.delete("/api/v1/limits/project").status_code == 204
    member = bearer(key["key"])
    assert gw.post("/v1/chat/completions", json=grounded, headers=member).status_code == 404
    limited = gw.post("/v1/chat/completions", json=grounded, headers=member)
    assert limited.status_code == 429  # the rate limit refuses before the knowledge base is even looked up
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    malformed = gw.post("/v1/chat/completions", json={"model": "stub/m", "messages": []}, headers=member)
    assert malformed.status_code == 400  # a request that is wrong on its face is told so first, as before
    assert malformed.json()["error"]["param"] == "messages"
