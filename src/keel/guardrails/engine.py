"""Running checks on a text: each named check with its prepared parameters, one verdict, and the text with
every finding replaced by `[TYPE]` (overlapping findings are merged, so nothing leaks between them). The
check endpoint runs exactly this; the gateway's guard stage will too."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from keel.core.errors import InvalidInput
from keel.guardrails.checks.base import Check, Finding, Result


@dataclass(frozen=True)
class Planned:
    check: Check
    prepared: Any


@dataclass
class Outcome:
    flagged: bool
    results: list[Result]
    redacted: str


def plan(
    specs: Sequence[str | dict[str, Any]], checks: Any, where: str = "checks", name_field: str = "name"
) -> list[Planned]:
    """Each spec (`"pii"` or `{"name": "regex", "params": {...}}`) resolved and its params validated."""
    planned = []
    for index, spec in enumerate(specs):
        at = f"{where}[{index}]"
        name = spec if isinstance(spec, str) else spec.get(name_field)
        params = {} if isinstance(spec, str) else spec.get("params") or {}
        if not isinstance(name, str) or name not in checks:
            known = ", ".join(checks)
            raise InvalidInput(
                f"unknown guardrail check {name!r}; registered: {known}", param=f"{at}.{name_field}"
            )
        if not isinstance(params, dict):
            raise InvalidInput("params must be an object", param=f"{at}.params")
        check = checks.get(name)
        planned.append(Planned(check, check.prepare(params, f"{at}.params")))
    return planned


def run(text: str, planned: list[Planned]) -> Outcome:
    results = [p.check.run(text, p.prepared) for p in planned]
    findings = [f for r in results for f in r.findings]
    return Outcome(any(r.flagged for r in results), results, redact(text, findings))


def redact(text: str, findings: list[Finding]) -> str:
    merged: list[list[Any]] = []  # [start, end, type] with overlaps joined (the first type names the span)
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if merged and finding.start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], finding.end)
        else:
            merged.append([finding.start, finding.end, finding.type])
    pieces, cursor = [], 0
    for start, end, kind in merged:
        pieces += [text[cursor:start], f"[{kind}]"]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)
