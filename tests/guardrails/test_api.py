"""`POST /api/v1/guardrails/check` runs the gateway's checks on any text: verdict, spans, redacted text; bad
checks are a 422 naming the field (problem+json), and the registry is listed."""

from fastapi.testclient import TestClient

from tests.conftest import bearer


def test_check_finds_redacts_and_lists(client: TestClient) -> None:
    text = "I am jane@example.com, card 4111 1111 1111 1111, key AKIAIOSFODNN7EXAMPLE."
    body = {
        "text": text,
        "checks": ["pii", "secrets", {"name": "deny_terms", "params": {"terms": ["refund"]}}],
    }
    reply = client.post("/api/v1/guardrails/check", json=body)
    assert reply.status_code == 200, reply.text
    verdict = reply.json()
    assert verdict["flagged"] is True
    assert verdict["redacted"] == "I am [EMAIL_ADDRESS], card [CREDIT_CARD], key [AWS_ACCESS_KEY]."
    pii, secrets, terms = verdict["results"]
    assert (pii["check"], pii["flagged"], pii["score"]) == ("pii", True, 1.0)
    assert [(f["type"], text[f["start"] : f["end"]]) for f in pii["findings"]] == [
        ("EMAIL_ADDRESS", "jane@example.com"),
        ("CREDIT_CARD", "4111 1111 1111 1111"),
    ]
    assert secrets["findings"] == [{"type": "AWS_ACCESS_KEY", "start": 53, "end": 73}]
    assert terms == {"check": "deny_terms", "flagged": False, "score": 0.0, "findings": []}
    clean = client.post("/api/v1/guardrails/check", json={"text": "Where is my parcel?", "checks": ["pii"]})
    assert clean.json() == {
        "flagged": False,
        "results": [{"check": "pii", "flagged": False, "score": 0.0, "findings": []}],
        "redacted": "Where is my parcel?",
    }
    listed = client.get("/api/v1/guardrails/checks").json()["items"]
    assert [c["name"] for c in listed] == [
        "deny_terms",
        "json_schema",
        "max_length",
        "pii",
        "regex",
        "secrets",
    ]


def test_bad_checks_are_422_naming_the_field(client: TestClient) -> None:
    cases = [
        ({"text": "x", "checks": ["telepathy"]}, "checks[0].name"),
        (
            {"text": "x", "checks": ["pii", {"name": "regex", "params": {"pattern": "(["}}]},
            "checks[1].params.pattern",
        ),
        ({"text": "x", "checks": []}, "checks"),
        ({"text": "x", "checks": [{"name": "pii", "extra": 1}]}, "checks"),
        ({"checks": ["pii"]}, "text"),
    ]
    for body, param in cases:
        reply = client.post("/api/v1/guardrails/check", json=body)
        assert reply.status_code == 422, (body, reply.text)
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert param in reply.text, (param, reply.text)


def test_viewers_cannot_run_checks(client: TestClient) -> None:
    viewer = client.post("/api/v1/keys", json={"name": "v", "role": "viewer"}).json()
    reply = client.post(
        "/api/v1/guardrails/check", json={"text": "x", "checks": ["pii"]}, headers=bearer(viewer["key"])
    )
    assert reply.status_code == 403
