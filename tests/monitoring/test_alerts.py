"""Alert rules end to end: gateway calls through the openai SDK drive a route into errors, the background
evaluator fires, a real webhook receiver gets a signed notification with a link to the failing traces, the
route recovers and the resolve arrives; an unreachable webhook is retried and recorded as failed without
holding up the other channel; bad rules are refused with 422 and nothing is saved."""

import contextlib
import hashlib
import hmac
import socket
import time
from collections.abc import Iterator
from typing import Any

import openai
import orjson
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer
from tests.gateway.test_chat import sdk
from tests.stubs.openai_stub import DOWN, openai_stub, serve

RECEIVED: list[tuple[dict[str, str], bytes]] = []


async def hook(request: Request) -> Response:
    RECEIVED.append((dict(request.headers), await request.body()))
    return Response(status_code=204)


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    with serve(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        yield url + "/hook"


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with openai_stub() as url:
        yield url


@pytest.fixture
def app(settings: Settings, stub_url: str) -> Iterator[TestClient]:
    fast = settings.model_copy(
        update={
            "worker_enabled": False,
            "alert_interval_seconds": 0.3,
            "webhook_allow_private": True,
            "alert_delivery_attempts": 2,
            "public_url": "http://keel.example",
        }
    )
    RECEIVED.clear()
    with TestClient(create_app(fast), headers=bearer(ADMIN_KEY)) as client:
        provider = {"name": "stub", "kind": "openai", "base_url": stub_url}
        assert client.post("/api/v1/providers", json=provider).status_code == 201
        route = {"name": "flaky", "targets": [{"provider": "stub", "model": "flaky-m"}], "retries": 0}
        assert client.post("/api/v1/routes", json=route).is_success
        yield client


def wait_for(predicate: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def call(client: TestClient, times: int) -> None:
    for _ in range(times):
        with contextlib.suppress(openai.APIStatusError):
            sdk(client).chat.completions.create(model="flaky", messages=[{"role": "user", "content": "hi"}])


def test_errors_fire_a_signed_webhook_and_recovery_resolves_it(app: TestClient, receiver: str) -> None:
    rule = {
        "name": "flaky-errors",
        "metric": "error_rate",
        "filters": {"route": "flaky"},
        "threshold": 0.05,
        "window_s": 2,
        "min_count": 5,
        "channels": [{"type": "webhook", "url": receiver, "secret": "s3cret"}],
    }
    saved = app.post("/api/v1/alerts/rules", json=rule)
    assert saved.status_code == 200, saved.text
    assert saved.json()["channels"] == [{"type": "webhook", "url": receiver, "secret_set": True, "to": None}]
    DOWN.add("flaky-m")
    try:
        call(app, 3)
        time.sleep(0.8)  # three failures: below min_count, no verdict
        assert not RECEIVED
        assert app.get("/api/v1/alerts/rules/flaky-errors").json()["state"] == "ok"
        started = time.monotonic()
        call(app, 3)
        wait_for(lambda: RECEIVED)
        fired_after = time.monotonic() - started
    finally:
        DOWN.discard("flaky-m")
    headers, raw = RECEIVED[0]
    body = orjson.loads(raw)
    assert body["event"] == "alert.firing"
    assert body["value"] == 1.0
    assert body["count"] >= 5
    assert body["traces_url"] == "http://keel.example/traces?route=flaky&status=error"
    stamp, digest = (part.split("=", 1)[1] for part in headers["x-keel-signature"].split(","))
    expected = hmac.new(b"s3cret", f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest, expected)
    assert fired_after < 0.3 + 5  # within one evaluation interval + 5 s

    time.sleep(2.1)  # the failures leave the window
    call(app, 5)
    wait_for(lambda: len(RECEIVED) >= 2)
    assert orjson.loads(RECEIVED[1][1])["event"] == "alert.resolved"
    assert len(RECEIVED) == 2  # one notification per transition, not per evaluation
    history = app.get("/api/v1/alerts").json()["items"]
    assert [e["state"] for e in history] == ["resolved", "firing"]
    assert history[1]["deliveries"][0]["status"] == "delivered"


def test_an_unreachable_webhook_is_retried_recorded_and_blocks_nothing(
    app: TestClient, receiver: str
) -> None:
    rule = {
        "name": "any-call",
        "metric": "request_count",
        "threshold": 0,
        "window_s": 60,
        "channels": [
            {"type": "webhook", "url": "http://127.0.0.1:9/down"},
            {"type": "slack", "url": receiver},
        ],
    }
    assert app.post("/api/v1/alerts/rules", json=rule).status_code == 200
    call(app, 1)
    wait_for(lambda: RECEIVED)
    assert "any-call" in orjson.loads(RECEIVED[0][1])["text"]  # Slack's incoming-webhook format

    def failed() -> Any:
        deliveries = app.get("/api/v1/alerts").json()["items"][0]["deliveries"]
        return deliveries if deliveries[0]["status"] == "failed" else None

    down, slack = wait_for(failed)
    assert down["attempts"] == 2
    assert "ConnectError" in down["last_error"]
    assert slack["status"] == "delivered"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"metric": "vibes"}, "unknown metric 'vibes'"),
        ({"filters": {"colour": "red"}}, "unknown filter(s) colour"),
        ({"window_s": 0}, "window_s"),
        ({"metric": "feedback_mean"}, "filters.score"),
        ({"channels": [{"type": "email"}]}, "needs `to`"),
        ({"resolve_threshold": 0.5}, "healthy side"),
    ],
)
def test_bad_rules_are_refused_and_nothing_is_saved(
    app: TestClient, change: dict[str, Any], needle: str
) -> None:
    rule = {"name": "bad", "metric": "error_rate", "threshold": 0.1, "window_s": 60, **change}
    reply = app.post("/api/v1/alerts/rules", json=rule)
    assert reply.status_code == 422
    assert needle in reply.text
    assert app.get("/api/v1/alerts/rules").json()["items"] == []


def test_a_window_shorter_than_the_interval_and_private_webhooks_are_refused(settings: Settings) -> None:
    strict = settings.model_copy(update={"worker_enabled": False, "alert_interval_seconds": 30})
    with TestClient(create_app(strict), headers=bearer(ADMIN_KEY)) as client:
        rule = {"name": "r", "metric": "error_rate", "threshold": 0.1, "window_s": 10}
        short = client.post("/api/v1/alerts/rules", json=rule)
        assert short.status_code == 422
        assert "shorter than the evaluation interval" in short.text
        private = {
            **rule,
            "window_s": 300,
            "channels": [{"type": "webhook", "url": "http://127.0.0.1:8080/x"}],
        }
        refused = client.post("/api/v1/alerts/rules", json=private)
        assert refused.status_code == 422
        assert "KEEL_WEBHOOK_ALLOW_PRIVATE" in refused.text
        assert client.get("/api/v1/alerts/rules").json()["items"] == []


def test_an_email_channel_sends_through_smtp(settings: Settings, stub_url: str) -> None:
    from aiosmtpd.controller import Controller

    class Inbox:
        messages: list[Any] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            self.messages.append(envelope)
            return "250 OK"

    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail = settings.model_copy(
            update={
                "worker_enabled": False,
                "alert_interval_seconds": 0.3,
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_from": "keel@example.com",
            }
        )
        with TestClient(create_app(mail), headers=bearer(ADMIN_KEY)) as client:
            rule = {
                "name": "quiet",
                "metric": "request_count",
                "comparison": "<",
                "threshold": 1,
                "window_s": 60,
                "channels": [{"type": "email", "to": ["oncall@example.com"]}],
            }
            assert client.post("/api/v1/alerts/rules", json=rule).status_code == 200
            wait_for(lambda: inbox.messages)
    finally:
        controller.stop()
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["oncall@example.com"]
    assert b"[FIRING] quiet: request_count is 0" in envelope.content


def test_a_budget_80_percent_used_fires(app: TestClient, receiver: str) -> None:
    price = {"input_usd_per_mtok": 10_000, "output_usd_per_mtok": 10_000}  # $0.13 a call on the stub
    assert app.put("/api/v1/prices/flaky-m*", json=price).status_code == 200
    assert app.put("/api/v1/limits/project", json={"usd_per_day": 1}).status_code == 200

    def spend(times: int) -> None:
        body = {"model": "flaky", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
        for _ in range(times):
            assert app.post("/v1/chat/completions", json=body).status_code == 200

    rule = {
        "name": "budget-80",
        "metric": "budget_used",
        "filters": {"scope": "project"},
        "comparison": ">=",
        "threshold": 0.8,
        "window_s": 60,
        "channels": [{"type": "webhook", "url": receiver}],
    }
    assert app.post("/api/v1/alerts/rules", json=rule).status_code == 200
    bad = app.post("/api/v1/alerts/rules", json={**rule, "filters": {"period": "week"}})
    assert bad.status_code == 422
    spend(2)
    wait_for(lambda: app.get("/api/v1/alerts/rules/budget-80").json()["last_value"] is not None)
    assert app.get("/api/v1/alerts/rules/budget-80").json()["state"] == "ok"  # about 26% so far
    spend(5)
    wait_for(lambda: RECEIVED)
    body = orjson.loads(RECEIVED[0][1])
    assert body["rule"]["metric"] == "budget_used"
    assert body["value"] >= 0.8
