"""Price table and cost accounting: integer micro-dollars, exact names before prefixes, cached tokens."""

import json
from decimal import ROUND_HALF_UP, Decimal

from fastapi.testclient import TestClient

from keel.gateway.pricing import PriceRule, cost_micros, find
from tests.gateway.test_chat import sdk, traces


def test_calls_are_costed_from_the_price_table(gw: TestClient) -> None:
    price = {"input_usd_per_mtok": "2.50", "output_usd_per_mtok": "10", "cached_input_usd_per_mtok": "1.25"}
    saved = gw.put("/api/v1/prices/gpt-4o*", json=price)
    assert saved.status_code == 200, saved.text
    assert saved.json()["input_usd_per_mtok"] == "2.5"
    sdk(gw).chat.completions.create(model="stub/gpt-4o", messages=[{"role": "user", "content": "hi"}])
    trace = traces(gw, 1)[0]
    # stub usage: 11 prompt tokens of which 4 cached, 2 completion tokens
    expected = (7 * Decimal("2.5") + 4 * Decimal("1.25") + 2 * Decimal("10")) / 1_000_000
    assert Decimal(trace["cost_usd"]) == expected.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    assert [p["model"] for p in gw.get("/api/v1/prices").json()["items"]] == ["gpt-4o*"]
    assert gw.delete("/api/v1/prices/gpt-4o*").status_code == 204
    assert gw.delete("/api/v1/prices/gpt-4o*").status_code == 404


def test_bad_prices_are_refused(gw: TestClient) -> None:
    assert (
        gw.put("/api/v1/prices/m", json={"input_usd_per_mtok": -1, "output_usd_per_mtok": 1}).status_code
        == 422
    )
    assert (
        gw.put("/api/v1/prices/a*b", json={"input_usd_per_mtok": 1, "output_usd_per_mtok": 1}).status_code
        == 422
    )
    assert gw.put("/api/v1/prices/m", json={"input_usd_per_mtok": 1}).status_code == 422


def test_rule_matching_and_rounding() -> None:
    rules = {
        "gpt-4o*": PriceRule("gpt-4o*", 2_500_000, 10_000_000, None),
        "gpt-4o-mini*": PriceRule("gpt-4o-mini*", 150_000, 600_000, 75_000),
        "gpt-4o-mini-2024": PriceRule("gpt-4o-mini-2024", 1, 1, None),
    }
    assert find(rules, "gpt-4o-mini-2024").model == "gpt-4o-mini-2024"  # type: ignore[union-attr]
    assert find(rules, "gpt-4o-mini-2025").model == "gpt-4o-mini*"  # type: ignore[union-attr]
    assert find(rules, None, "gpt-4o").model == "gpt-4o*"  # type: ignore[union-attr]
    assert find(rules, "claude") is None
    usage = {"prompt_tokens": 1000, "completion_tokens": 100, "prompt_tokens_details": {"cached_tokens": 200}}
    assert (
        cost_micros(rules["gpt-4o-mini*"], usage)
        == (800 * 150_000 + 200 * 75_000 + 100 * 600_000 + 500_000) // 10**6
    )


def test_upstreams_without_usage_are_counted_locally_and_priced(gw: TestClient) -> None:
    from keel.gateway.tokens import count_messages, count_text

    price = {"input_usd_per_mtok": "1000", "output_usd_per_mtok": "0"}
    assert gw.put("/api/v1/prices/no-usage", json=price).status_code == 200
    messages = [{"role": "user", "content": "count these words please"}]
    reply = sdk(gw).chat.completions.create(model="stub/no-usage", messages=messages)
    assert reply.usage is None  # the caller sees the upstream's answer as it was
    stream = sdk(gw).chat.completions.create(model="stub/no-usage", messages=messages, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    found = traces(gw, 2)
    assert len(found) == 2
    prompt = count_messages(messages)
    assert prompt == 3 + 3 + count_text("user") + count_text("count these words please")
    for trace in found:
        assert trace["prompt_tokens"] == prompt
        assert trace["completion_tokens"] == count_text(json.loads(trace["output"])[0]["content"])
        assert Decimal(trace["cost_usd"]) == prompt * Decimal("0.001")  # $1000 per Mtok of input
        span = gw.get(f"/api/v1/traces/{trace['trace_id']}").json()["spans"][0]
        assert span["attributes"]["keel.usage.estimated"] is True
