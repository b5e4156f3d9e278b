"""Groundedness: answers checked against the passages a RAG call was given. A supported answer scores 1, an
invented sentence lowers the score and is named; with no context there is no score. As an online-eval rule
it scores production traces, and an alert on the mean fires when answers stop being grounded."""

import json
import time

from fastapi.testclient import TestClient

from keel.evals.evaluators.base import Failed, Judged, Sample
from keel.evals.evaluators.grounded import groundedness
from keel.tracing.internal import InternalSpan, internal_row

CONTEXT = (
    "Answer the question using the numbered context below.\n\n"
    "[1] (handbook.md) Refunds are paid back to the original card within five business days.\n\n"
    "[2] (handbook.md) Orders over fifty dollars ship for free inside the European Union."
)


def ask(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": CONTEXT}, {"role": "user", "content": question}]


def test_supported_and_invented_sentences() -> None:
    grounded = Sample(
        ask("refunds?"), "Refunds are paid back to the original card within five business days [1]."
    )
    mixed = Sample(
        ask("shipping?"),
        "Orders over fifty dollars ship for free inside the European Union. "
        "Premium members also get a lifetime warranty on every purchase.",
    )
    unmoored = Sample([{"role": "user", "content": "hi"}], "Hello there, how can I help today?")
    results = groundedness([grounded, mixed, unmoored], {}, None)
    assert isinstance(results[0], Judged)
    assert results[0].metrics == {"groundedness": 1.0}
    assert isinstance(results[1], Judged)
    assert results[1].metrics == {"groundedness": 0.5}
    assert "lifetime warranty" in results[1].reason
    assert isinstance(results[2], Failed)
    assert "no context" in results[2].reason


def rag_trace(client: TestClient, answer: str) -> str:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    project_id = client.get("/api/v1/whoami").json()["project_id"]
    now = time.time_ns()
    attributes = {
        "gen_ai.request.model": "rag-model",
        "keel.route": "support",
        "gen_ai.input.messages": json.dumps(ask("What about refunds?")),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "content": answer}]),
    }
    span = InternalSpan(project_id, "chat support", now, now + 1000, attributes, kind="server")
    runtime.services["tracing.writer"].submit([internal_row(span, 65536)]).result(timeout=5)
    return span.trace_id


def test_an_online_rule_tracks_groundedness_and_an_alert_fires_when_it_drops(client: TestClient) -> None:
    rule = {"name": "grounded", "filter": {"route": "support"}, "evaluators": ["groundedness"]}
    assert client.post("/api/v1/online-evals", json=rule).status_code == 201
    alert = {
        "name": "hallucinating",
        "metric": "feedback_mean",
        "filters": {"score": "groundedness", "route": "support"},
        "comparison": "<",
        "threshold": 0.8,
        "window_s": 3600,
        "min_count": 3,
    }
    assert client.post("/api/v1/alerts/rules", json=alert).status_code == 200
    for _ in range(3):
        rag_trace(client, "Refunds go back to the original card within five business days.")
    for _ in range(3):
        rag_trace(client, "Every customer gets a free gift card. Delivery to Mars is included.")
    assert client.post("/api/v1/online-evals/run").json() == {"scored": 6}
    scores = client.get("/api/v1/feedback", params={"name": "groundedness"}).json()["items"]
    assert sorted(s["value"] for s in scores) == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    client.app.state.runtime.service("monitoring.alerts").evaluate_all()  # type: ignore[attr-defined]
    fired = client.get("/api/v1/alerts/rules/hallucinating").json()
    assert fired["state"] == "firing"
    assert fired["last_value"] == 0.5
