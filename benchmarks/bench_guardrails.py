"""Guardrail checks: CPU per check on a 2,000-character message (a support e-mail with an address, a phone
number, a card number and an API key in it), and the redaction of all findings, in this process.

Baseline: one `re.search` of a fixed word over the same text in the same run (what the cheapest possible
pattern check costs here), so `vs_one_regex` is the figure that survives a noisy machine. Goal from the
guardrails issue: pattern checks ≤ 0.3 ms each on 2,000 characters.
"""

import re
import time
from typing import Any

from keel.guardrails import engine
from keel.plugins.manager import Plugins

BODY = (
    "Hello team, I ordered the blue kettle last week and it still has not arrived. My order reference is "
    "KX-2291-B and the tracking page says it is stuck in the depot. "
)
MESSAGE = (
    BODY * 8
    + "You can reach me at jane.doe@example.com or on +1 415-555-2671. I paid with 4111 1111 1111 1111. "
    + "Our integration uses the key sk-proj-abcdefghijklmnopqrstuvwx, in case you need to check the logs. "
    + BODY * 3
)[:2000]
ROUNDS = 2000
SPECS: list[tuple[str, Any]] = [
    ("pii", "pii"),
    ("secrets", "secrets"),
    ("regex", {"name": "regex", "params": {"pattern": r"order reference is [A-Z]{2}-\d{4}"}}),
    ("deny_terms", {"name": "deny_terms", "params": {"terms": ["refund", "lawyer", "chargeback"]}}),
    ("max_length", {"name": "max_length", "params": {"max_chars": 4000}}),
]


def cpu_ms(work: Any, rounds: int = ROUNDS) -> float:
    started = time.process_time()
    for _ in range(rounds):
        work()
    return (time.process_time() - started) / rounds * 1000


def run() -> list[dict[str, Any]]:
    checks = Plugins(entry_points=False).guardrail_checks
    word = re.compile(r"zebra")  # absent: the search reads the whole message
    baseline = cpu_ms(lambda: word.search(MESSAGE), ROUNDS * 10)
    rows = [
        {"case": "baseline: one re.search", "chars": len(MESSAGE), "cpu_ms": baseline, "vs_one_regex": 1.0}
    ]
    for label, spec in SPECS:
        [planned] = engine.plan([spec], checks)
        findings = len(planned.check.run(MESSAGE, planned.prepared).findings)
        ms = cpu_ms(lambda planned=planned: planned.check.run(MESSAGE, planned.prepared))
        rows.append(
            {
                "case": label,
                "chars": len(MESSAGE),
                "findings": findings,
                "cpu_ms": ms,
                "vs_one_regex": ms / baseline,
            }
        )
    everything = engine.plan([spec for _, spec in SPECS], checks)
    ms = cpu_ms(lambda: engine.run(MESSAGE, everything))
    rows.append(
        {"case": "all five + redaction", "chars": len(MESSAGE), "cpu_ms": ms, "vs_one_regex": ms / baseline}
    )
    return rows
