"""UI pieces without a browser: sessions, CSRF, charts, and every page rendering on SQLite and PostgreSQL
for a signed-in key (the browser journey is tests/e2e/test_ui.py)."""

import time

import pytest
from fastapi.testclient import TestClient

from keel.core.secrets import SecretBox, new_key
from keel.ui import charts, session
from tests.conftest import ADMIN_KEY
from tests.tracing.factory import llm_trace, request

PAGES = (
    "/",
    "/traces",
    "/playground",
    "/prompts",
    "/datasets",
    "/experiments",
    "/knowledge",
    "/finetunes",
    "/models",
    "/loops",
    "/gateway",
    "/guardrails",
)


def test_sessions_expire_and_resist_tampering() -> None:
    box = SecretBox(new_key())
    cookie = session.issue(box, "keel_abc")
    assert session.read(box, cookie) == "keel_abc"
    assert session.read(box, session.issue(box, "keel_abc", now=time.time() - session.LIFETIME_S - 1)) is None
    assert session.read(box, cookie[:-4] + "AAAA") is None
    assert session.read(SecretBox(new_key()), cookie) is None  # another server's secret
    assert session.read(box, None) is None
    assert session.csrf_ok(cookie, session.csrf_token(cookie))
    assert not session.csrf_ok(cookie, "0" * 32)
    assert not session.csrf_ok(None, session.csrf_token(cookie))


def test_charts_draw_series_with_gaps_and_a_text_summary() -> None:
    svg = str(charts.line_chart("Latency", ["a", "b", "c", "d"], {"p95": [10.0, None, 30.0, 40.0]}, " ms"))
    assert svg.count("<polyline") == 1  # the gap breaks the line: one run of two points is drawn
    assert 'aria-label="Latency: p95: latest 40 ms, peak 40 ms"' in svg
    assert "<title>p95 d: 40 ms</title>" in svg
    assert "No data." in str(charts.line_chart("Empty", [], {}))
    bars = str(charts.bar_chart("Scores", [("<b>", 0.5), ("v2", 1.0)]))
    assert "&lt;b&gt;" in bars
    assert 'style="width:50.0%"' in bars


@pytest.fixture
def signed_in(client: TestClient) -> TestClient:
    response = client.post("/login", data={"key": ADMIN_KEY, "next": "/traces"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/traces"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    return client


def test_every_page_renders(signed_in: TestClient) -> None:
    for path in PAGES:
        response = signed_in.get(path, headers={"Authorization": ""})
        assert response.status_code == 200, (path, response.text[:500])
        assert "<h1>" in response.text
        assert "Traceback" not in response.text


def test_the_live_tail_is_a_fragment_of_rows(signed_in: TestClient) -> None:
    signed_in.post("/v1/traces", json={"resourceSpans": []})
    fragment = signed_in.get("/traces/rows?status=ok", headers={"Authorization": ""})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "No traces match." in fragment.text


def test_without_a_session_pages_send_you_to_sign_in(client: TestClient) -> None:
    response = client.get("/prompts", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/prompts"
    wrong = client.post("/login", data={"key": "keel_wrong", "next": "/"})
    assert wrong.status_code == 401
    assert "That key does not work: invalid API key" in wrong.text
    evil = client.post("/login", data={"key": ADMIN_KEY, "next": "//evil.example/"}, follow_redirects=False)
    assert evil.headers["location"] == "/"  # no open redirect


def test_the_guardrails_page_lists_policies_and_tries_a_text(signed_in: TestClient) -> None:
    policy = {
        "name": "no-pii",
        "input": [{"check": "pii", "action": "redact"}],
        "output": [{"check": "deny_terms", "action": "block", "params": {"terms": ["lawsuit"]}}],
    }
    assert signed_in.post("/api/v1/guardrails", json=policy).status_code == 200
    page = signed_in.get("/guardrails", headers={"Authorization": ""}).text
    assert "no-pii" in page
    assert "pii → redact" in page
    assert "no route" in page
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    tried = signed_in.post(
        "/guardrails/try",
        data={"csrf": csrf, "policy": "no-pii", "text": "mail jane@example.com about the lawsuit"},
        headers={"Authorization": ""},
    )
    assert tried.status_code == 200, tried.text[:300]
    assert "mail [EMAIL_ADDRESS] about the lawsuit" in tried.text  # what the input rules would send
    assert "mail jane@example.com about the [DENIED_TERM]" in tried.text  # what the output rules flag
    assert tried.text.count("flagged") >= 2
    forged = signed_in.post(
        "/guardrails/try", data={"csrf": "x", "policy": "no-pii", "text": "t"}, headers={"Authorization": ""}
    )
    assert forged.status_code == 403


def test_the_monitoring_page_shows_rules_and_history_and_the_overview_firing_alerts(
    signed_in: TestClient,
) -> None:
    rule = {
        "name": "no-traffic",
        "metric": "request_count",
        "comparison": "<",
        "threshold": 1,
        "window_s": 60,
    }
    assert signed_in.post("/api/v1/alerts/rules", json=rule).status_code == 200
    page = signed_in.get("/monitoring", headers={"Authorization": ""}).text
    assert "no-traffic" in page
    assert "request_count &lt; 1.0" in page
    assert "Nothing has fired yet." in page
    signed_in.app.state.runtime.service("monitoring.alerts").evaluate_all()  # what the next tick would do
    page = signed_in.get("/monitoring", headers={"Authorization": ""}).text
    assert "[FIRING] no-traffic: request_count is 0" in page
    overview = signed_in.get("/", headers={"Authorization": ""}).text
    assert 'aria-label="Firing alerts"' in overview
    assert "no-traffic" in overview


def test_the_canary_page_shows_the_release_and_overrules_the_judge(signed_in: TestClient) -> None:
    provider = {"name": "up", "kind": "openai", "base_url": "http://127.0.0.1:9/v1"}
    assert signed_in.post("/api/v1/providers", json=provider).status_code == 201
    body = {"name": "answers", "targets": [{"provider": "up", "model": "m1"}]}
    assert signed_in.post("/api/v1/routes", json=body).status_code == 200
    gateway_page = signed_in.get("/gateway", headers={"Authorization": ""}).text
    assert "Start canary" in gateway_page
    csrf = gateway_page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form = {"csrf": csrf, "candidate": "up/m2", "steps": "10, 50, 100", "interval": "2m", "min_calls": "50"}
    page = signed_in.post("/gateway/routes/answers/canary", data=form, headers={"Authorization": ""}).text
    assert "Canary started" in page
    bad = signed_in.post(
        "/gateway/routes/answers/canary", data={**form, "steps": "50, 10"}, headers={"Authorization": ""}
    )
    assert bad.status_code == 422
    assert "steps must" in bad.text
    gateway_page = signed_in.get("/gateway", headers={"Authorization": ""}).text
    assert 'href="/gateway/routes/answers/canary"' in gateway_page
    assert "Canary on answers" in page
    assert "up/m2" in page
    assert '<li class="current">10%</li>' in page
    assert "waiting for data" in page
    assert "No decision yet" in page
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    paused = signed_in.post(
        "/gateway/routes/answers/canary/pause", data={"csrf": csrf}, headers={"Authorization": ""}
    )
    assert paused.status_code == 200  # followed the redirect back to the page
    assert "Canary pause done" in paused.text
    assert "paused" in paused.text
    assert ">pause</td>" in paused.text  # the override is on the timeline
    assert signed_in.get("/api/v1/routes/answers/canary").json()["state"] == "paused"
    missing = signed_in.get("/gateway/routes/nowhere/canary", headers={"Authorization": ""})
    assert missing.status_code == 404


def test_add_all_matching_on_the_traces_page_writes_a_dataset_version(signed_in: TestClient) -> None:
    spans = [
        s for prompt in ("what is keel?", "what is keel?", "how to deploy") for s in llm_trace(prompt=prompt)
    ]
    sent = signed_in.post(
        "/v1/traces",
        content=request(*spans).SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
    )
    assert sent.status_code == 200, sent.text
    page = signed_in.get("/traces", headers={"Authorization": ""}).text
    assert "Add all matching" in page
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    deadline = time.monotonic() + 5
    while len(signed_in.get("/api/v1/traces").json()["items"]) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    added = signed_in.post(
        "/traces/select",
        data={"csrf": csrf, "dataset": "from-ui", "max_items": "100"},
        headers={"Authorization": ""},
    )
    assert added.status_code == 200
    assert "Added 2 trace(s) to from-ui (version 1)" in added.text
    assert signed_in.get("/api/v1/datasets/from-ui").json()["item_count"] == 2


def test_the_loops_page_shows_a_loop_its_runs_and_starts_one(signed_in: TestClient) -> None:
    route = {"name": "support", "targets": [{"provider": "local", "model": "smollm2-135m-instruct"}]}
    assert signed_in.post("/api/v1/routes", json=route).status_code == 200
    loop = {
        "name": "nightly",
        "dataset": "support-prod",
        "selector": {"filters": {"route": "support"}, "scores": [{"name": "thumbs", "min": 1}]},
        "finetune": {"register_as": "support-tuned"},
        "canary": {"route": "support", "steps": [10, 100]},
        "trigger": {"schedule": "0 3 * * *"},
    }
    assert signed_in.post("/api/v1/loops", json=loop).status_code == 200
    page = signed_in.get("/loops", headers={"Authorization": ""}).text
    assert "nightly" in page
    assert "thumbs ≥ 1.0" in page
    assert 'href="/gateway/routes/support/canary"' in page
    assert "<code>0 3 * * *</code>" in page
    assert "No runs yet." in page
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    started = signed_in.post("/loops/nightly/run", data={"csrf": csrf}, headers={"Authorization": ""})
    assert started.status_code == 200
    assert "Run 1 of nightly started" in started.text
    assert "manual" in started.text


def test_the_monitoring_page_draws_a_drift_report(signed_in: TestClient) -> None:
    spans = [s for n in range(40) for s in llm_trace(prompt=f"question {n}", tokens=(10 + n % 7, 3))]
    sent = signed_in.post(
        "/v1/traces",
        content=request(*spans).SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
    )
    assert sent.status_code == 200
    signed_in.app.state.runtime.service("tracing.writer").barrier()  # type: ignore[attr-defined]
    page = signed_in.get("/monitoring", params={"hours": 1}, headers={"Authorization": ""})
    assert page.status_code == 200, page.text[:500]
    assert "input_tokens" in page.text
    assert page.text.count("<h2>Drift</h2>") == 1
    assert "fewer than 30 values" in page.text  # the hour before holds nothing: no verdict, not a guess
    bad = signed_in.get("/monitoring", params={"hours": -1}, headers={"Authorization": ""})
    assert bad.status_code == 422
    items = [{"input": [{"role": "user", "content": f"refund order {n} please"}]} for n in range(40)]
    assert signed_in.post("/api/v1/datasets", json={"name": "seen", "items": items}).status_code == 201
    against = signed_in.get(
        "/monitoring", params={"hours": 1, "dataset": "seen@1"}, headers={"Authorization": ""}
    )
    assert against.status_code == 200, against.text[:500]
    assert '<figure class="chart"><figcaption>input_tokens' in against.text  # the overlay
    assert "<rect" in against.text
    assert "Topics of inputs" in against.text
