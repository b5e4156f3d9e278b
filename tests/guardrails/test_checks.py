"""The built-in checks find what they should, with exact spans, and leave look-alikes alone."""

import pytest

from keel.core.errors import InvalidInput
from keel.guardrails import engine
from keel.plugins.manager import Plugins

CHECKS = Plugins(entry_points=False).guardrail_checks


def found(text: str, *specs: str | dict[str, object]) -> list[tuple[str, str]]:
    outcome = engine.run(text, engine.plan(list(specs), CHECKS))
    return [(f.type, text[f.start : f.end]) for r in outcome.results for f in r.findings]


def test_pii_by_checksum_and_numbering_plan() -> None:
    text = (
        "Mail jane.doe@example.co.uk or call +44 20 7946 0958 / (415) 555-2671. Card 4111-1111-1111-1111, "
        "IBAN GB82 WEST 1234 5698 7654 32, SSN 536-90-4399, host 192.168.1.20 and 2001:db8::8a2e:370:7334."
    )
    assert found(text, {"name": "pii", "params": {"regions": ["US", "GB"]}}) == [
        ("EMAIL_ADDRESS", "jane.doe@example.co.uk"),
        ("PHONE_NUMBER", "+44 20 7946 0958"),
        ("PHONE_NUMBER", "(415) 555-2671"),
        ("CREDIT_CARD", "4111-1111-1111-1111"),
        ("IBAN", "GB82 WEST 1234 5698 7654 32"),
        ("US_SSN", "536-90-4399"),
        ("IP_ADDRESS", "192.168.1.20"),
        ("IP_ADDRESS", "2001:db8::8a2e:370:7334"),
    ]


def test_pii_leaves_numbers_that_fail_their_checksum() -> None:
    text = (
        "Order 4111 1111 1111 1112 (Luhn fails), IBAN GB00 WEST 1234 5698 7654 32 (mod-97 fails), "
        "ticket 000-12-3456 (no SSN starts 000), version 1.2.3.4.5, at 10:30:00, 999.1.1.1, "
        "invoice 2026-12-02."
    )
    assert found(text, "pii") == []


def test_secrets_by_prefix_and_shape() -> None:
    key = "sk-ant-api03-" + "a" * 40
    text = (
        f"aws AKIAIOSFODNN7EXAMPLE anthropic {key} openai sk-proj-{'b' * 30} github ghp_{'c' * 36} "
        "slack xoxb-123456789012-abcdefghij "
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlX2hlcmU "
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
    )
    kinds = [kind for kind, _ in found(text, "secrets")]
    assert kinds == [
        "AWS_ACCESS_KEY",
        "ANTHROPIC_KEY",
        "OPENAI_KEY",
        "GITHUB_TOKEN",
        "SLACK_TOKEN",
        "JWT",
        "PRIVATE_KEY",
    ]
    assert found("ask-me-anything, the sky is blue, keel_short", "secrets") == []


def test_text_checks_and_redaction_of_overlaps() -> None:
    text = "Tell me about Project Falcon and project falcons; call 555-0100."
    assert found(text, {"name": "deny_terms", "params": {"terms": ["project falcon"]}}) == [
        ("DENIED_TERM", "Project Falcon")  # whole words: "falcons" is another word
    ]
    regex = {"name": "regex", "params": {"pattern": r"\d{3}-\d{4}", "type": "EXTENSION"}}
    assert found(text, regex) == [("EXTENSION", "555-0100")]
    assert found("x" * 12, {"name": "max_length", "params": {"max_chars": 10}}) == [("TOO_LONG", "xx")]
    outcome = engine.run(
        "card 4111 1111 1111 1111 ok",
        engine.plan(["pii", {"name": "regex", "params": {"pattern": "1111 1111"}}], CHECKS),
    )
    assert outcome.redacted == "card [CREDIT_CARD] ok"  # overlapping findings become one mask


@pytest.mark.parametrize(
    ("spec", "param", "message"),
    [
        (
            "nope",
            "checks[0].name",
            "unknown guardrail check 'nope'; registered: deny_terms, json_schema, max_length, pii",
        ),
        ({"name": "regex", "params": {"pattern": "("}}, "checks[0].params.pattern", "does not compile"),
        ({"name": "regex", "params": {"pattern": "(a+)+$"}}, "checks[0].params.pattern", "exponential"),
        ({"name": "pii", "params": {"types": ["DNA"]}}, "checks[0].params.types", "pii types must be"),
        ({"name": "pii", "params": {"regions": ["XX"]}}, "checks[0].params.regions", "region codes"),
        ({"name": "max_length", "params": {"max_chars": 0}}, "checks[0].params.max_chars", "positive"),
        ({"name": "deny_terms", "params": {"terms": []}}, "checks[0].params.terms", "non-empty"),
        ({"name": "secrets", "params": {"kinds": []}}, "checks[0].params", "secrets takes types"),
    ],
)
def test_bad_specs_are_refused_naming_the_field(spec: object, param: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        engine.plan([spec], CHECKS)  # type: ignore[list-item]
    assert info.value.extra["param"] == param
