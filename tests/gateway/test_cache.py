"""Exact-match response cache: hits skip the upstream, are traced as hits and cost nothing."""

from fastapi.testclient import TestClient

from keel.gateway.cache import ResponseCache, cache_key
from tests.gateway.test_chat import traces
from tests.stubs.openai_stub import SEEN

BODY = {"model": "cached", "messages": [{"role": "user", "content": "same question"}]}


def test_identical_requests_hit_the_cache(gw: TestClient) -> None:
    gw.put("/api/v1/prices/m", json={"input_usd_per_mtok": "1", "output_usd_per_mtok": "1"})
    route = {"name": "cached", "targets": [{"provider": "stub", "model": "m"}], "cache_ttl_s": 60}
    assert gw.post("/api/v1/routes", json=route).json()["cache_ttl_s"] == 60
    first = gw.post("/v1/chat/completions", json={**BODY, "user": "a"})
    second = gw.post("/v1/chat/completions", json={**BODY, "user": "b"})
    other = gw.post("/v1/chat/completions", json={**BODY, "temperature": 0.5})
    assert first.headers["x-keel-cache"] == "miss"
    assert second.headers["x-keel-cache"] == "hit"
    assert other.headers["x-keel-cache"] == "miss"
    assert second.content == first.content
    assert len(SEEN) == 2
    items = traces(gw, 3)
    hits = [t for t in items if t["cost_usd"] == "0"]
    assert len(hits) == 1
    assert hits[0]["total_tokens"] == 0
    assert hits[0]["output"]
    detail = gw.get(f"/api/v1/traces/{hits[0]['trace_id']}").json()
    assert detail["spans"][0]["attributes"]["keel.cache_hit"] is True


def test_streams_and_uncached_routes_skip_the_cache(gw: TestClient) -> None:
    plain = gw.post("/v1/chat/completions", json={**BODY, "model": "stub/m"})
    assert "x-keel-cache" not in plain.headers


def test_cache_expires_and_evicts_by_size() -> None:
    now = [1000.0]
    cache = ResponseCache(max_bytes=64, clock=lambda: now[0])
    cache.put("a", b"x" * 3, ttl_s=1)
    assert cache.get("a") == b"xxx"
    for n in range(40):
        cache.put(f"k{n}", b"y" * 3, ttl_s=60)
    assert cache.get("a") is None
    cache.put("soon", b"z", ttl_s=1)
    now[0] += 0.99
    assert cache.get("soon") == b"z"
    now[0] += 0.02
    assert cache.get("soon") is None
    assert cache_key("p", "r", {"a": 1, "b": 2, "user": "x"}) == cache_key("p", "r", {"b": 2, "a": 1})
