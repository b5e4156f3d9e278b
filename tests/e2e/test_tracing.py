"""Traces from a real OpenTelemetry SDK exporter into a real `keel serve`, read back through the CLI."""

import subprocess
import sys
import time

import httpx
import openai
import pytest

import keel
from tests.e2e.conftest import Server, clean_env, keel_json
from tests.stubs.openai_stub import openai_stub

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("server", ["sqlite", "postgresql"], indirect=True)
def test_sdk_and_openai_spans_arrive_nested(server: Server) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    keel.configure_tracing(server.url, key, service_name="e2e-app")
    keel.instrument_openai()
    try:
        with openai_stub() as base_url:
            llm = openai.OpenAI(base_url=base_url, api_key="sk-test")

            @keel.trace(name="support-bot")
            def bot(question: str) -> str:
                with keel.trace("retrieve", span_type="retriever") as span:
                    span.set_output(["faq#3"])
                reply = llm.chat.completions.create(
                    model="gpt-e2e", messages=[{"role": "user", "content": question}]
                )
                return str(reply.choices[0].message.content)

            assert bot("where is my order?") == "echo: where is my order?"
        assert keel.flush()
    finally:
        keel.uninstrument_openai()

    env = clean_env(KEEL_URL=server.url, KEEL_API_KEY=key)
    traces = keel_json("traces", "list", "--model", "gpt-e2e-2026", env=env)
    assert len(traces) == 1
    trace = traces[0]
    assert trace["name"] == "support-bot"
    assert trace["span_count"] == 3
    assert trace["service_name"] == "e2e-app"
    assert trace["prompt_tokens"] == 11
    detail = keel_json("traces", "show", trace["trace_id"], env=env)
    root = detail["spans"][0]
    assert [c["name"] for c in root["children"]] == ["retrieve", "chat gpt-e2e"]
    assert root["children"][1]["cached_tokens"] == 4
    shown = subprocess.run(
        [sys.executable, "-m", "keel", "traces", "show", trace["trace_id"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "support-bot" in shown.stdout
    assert "chat gpt-e2e" in shown.stdout


def test_tail_follows_new_traces(server: Server) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    env = clean_env(KEEL_URL=server.url, KEEL_API_KEY=key)
    tail = subprocess.Popen(
        [sys.executable, "-m", "keel", "traces", "tail", "--count", "2", "--interval", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    keel.configure_tracing(server.url, key)
    deadline = time.monotonic() + 30
    number = 0
    while tail.poll() is None and time.monotonic() < deadline:  # keep producing until tail has seen two
        number += 1
        with keel.trace(f"job-{number}"):
            pass
        keel.flush()
        time.sleep(0.5)
    out, err = tail.communicate(timeout=30)
    assert tail.returncode == 0, err
    assert out.count("job-") == 2


def test_otlp_json_over_socket_with_curl_like_client(server: Server) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "name": "curl-span",
                                "startTimeUnixNano": str(time.time_ns()),
                                "endTimeUnixNano": str(time.time_ns() + 1000),
                            }
                        ]
                    }
                ]
            }
        ]
    }
    response = httpx.post(f"{server.url}/v1/traces", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    found = httpx.get(
        f"{server.url}/api/v1/traces/5b8efff798038103d269b633813fc60c",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert found.json()["name"] == "curl-span"
