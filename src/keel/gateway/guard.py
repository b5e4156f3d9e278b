"""The gateway's guard stage: a route's guardrail policy run on what is sent and on what comes back.

Input rules run on the text of every message after the prompt is rendered and before retrieval and the
upstream call: `block` refuses the call (400 `guardrail_blocked`, naming the checks), `redact` replaces the
findings by `[TYPE]` in the messages the upstream receives, `monitor` only records. Output rules run on the
answer's text before the caller sees it: `block` replaces it by the policy's refusal (finish reason
`content_filter`), `redact` masks the findings. A stream through a route with output rules is held back
whole and sent once checked, so no text a rule rejects is ever sent. Every verdict is on the call's trace
(`keel.guardrails`) with a `guardrail` span per stage.
"""

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from keel.core.errors import KeelError
from keel.guardrails import engine
from keel.guardrails.checks.base import Finding


class GuardrailBlocked(KeelError):
    status = 400
    code = "guardrail_blocked"
    title = "Blocked by a guardrail"


@dataclass(frozen=True)
class Rule:
    planned: engine.Planned
    action: str
    fails_closed: bool  # a check that raises counts as flagged (block/redact act on it) rather than passing


@dataclass(frozen=True)
class Policy:
    name: str
    input: tuple[Rule, ...]
    output: tuple[Rule, ...]
    refusal: str


def prepare(name: str, rules: dict[str, Any], refusal: str, checks: Any) -> Policy:
    """A stored policy made ready to run (its parameters were validated when it was saved)."""

    def stage(items: list[dict[str, Any]], where: str) -> tuple[Rule, ...]:
        planned = engine.plan(items, checks, where=where, name_field="check")
        return tuple(
            Rule(
                p,
                item["action"],
                (item.get("on_error") or ("closed" if item["action"] == "block" else "open")) == "closed",
            )
            for p, item in zip(planned, items, strict=True)
        )

    return Policy(
        name, stage(rules.get("input", []), "input"), stage(rules.get("output", []), "output"), refusal
    )


@dataclass
class Verdicts:
    """What the guard stage decided for one call, for its trace."""

    entries: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # checks that raised
    spans: list[tuple[str, int, int, dict[str, Any]]] = field(
        default_factory=list
    )  # stage, start, end, attrs


def _check(text: str, rules: tuple[Rule, ...], verdicts: Verdicts) -> list[tuple[Rule, list[Finding]]]:
    """The rules that flag `text`, with their findings. A check that raises is recorded and counts as
    flagged (with the whole text as its finding) when its rule fails closed, as passed when it fails open."""
    found = []
    for rule in rules:
        try:
            result = rule.planned.check.run(text, rule.planned.prepared)
        except Exception as exc:  # a plugin's bug must not become a 500 or a silent pass
            verdicts.errors.append(f"{rule.planned.check.name}: {type(exc).__name__}: {exc}"[:300])
            if rule.fails_closed:
                found.append((rule, [Finding("GUARDRAIL_ERROR", 0, len(text))]))
            continue
        if result.flagged:
            found.append((rule, result.findings))
    return found


def _text_parts(message: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(container, key) of every text in a message: its string content or its text parts."""
    content = message.get("content")
    if isinstance(content, str):
        return [(message, "content")]
    if isinstance(content, list):
        return [
            (part, "text") for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
    return []


def guard_input(policy: Policy, body: dict[str, Any], verdicts: Verdicts) -> None:
    if not policy.input:
        return
    started = time.time_ns()
    blocked: list[str] = []
    flagged: list[str] = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        for container, key in _text_parts(message):
            for rule, findings in _check(container[key], policy.input, verdicts):
                name = rule.planned.check.name
                flagged.append(f"input {name} {rule.action}")
                if rule.action == "block":
                    blocked.append(name)
                elif rule.action == "redact":
                    container[key] = engine.redact(container[key], findings)
    _record(verdicts, "input", policy, started, flagged)
    if blocked:
        checks = ", ".join(sorted(set(blocked)))
        failed = (
            f" (a check failed and its rule fails closed: {verdicts.errors[0]})" if verdicts.errors else ""
        )
        raise GuardrailBlocked(
            f"the request was blocked by guardrail policy {policy.name!r}: {checks}{failed}"
        )


def retry_reason(policy: Policy, content: bytes, verdicts: Verdicts) -> str | None:
    """Why a `retry` output rule rejects the first choice's text, if one does (the model is asked again)."""
    rules = tuple(rule for rule in policy.output if rule.action == "retry")
    if not rules:
        return None
    choices = orjson.loads(content).get("choices") or []
    text = (choices[0].get("message") or {}).get("content") if choices else None
    if not isinstance(text, str):
        return None
    for rule in rules:
        result = rule.planned.check.run(text, rule.planned.prepared)
        if result.flagged:
            verdicts.entries.append(f"output {rule.planned.check.name} retry")
            return result.detail or f"the {rule.planned.check.name} check flagged it"
    return None


def guard_output(policy: Policy, content: bytes, verdicts: Verdicts, retry_passed: bool = False) -> bytes:
    """A chat completion body with every choice's text checked (refused or masked as the rules say).
    `retry_passed`: `retry_reason` already passed this body's first choice, so its retry rules are not run
    again there."""
    if not policy.output:
        return content
    started = time.time_ns()
    payload = orjson.loads(content)
    flagged: list[str] = []
    others = tuple(rule for rule in policy.output if rule.action != "retry")
    for index, choice in enumerate(payload.get("choices") or []):
        message = choice.get("message") or {}
        text = message.get("content")
        if not isinstance(text, str):
            continue
        found = _check(text, others if retry_passed and index == 0 else policy.output, verdicts)
        flagged += [f"output {rule.planned.check.name} {rule.action}" for rule, _ in found]
        if any(rule.action in ("block", "retry") for rule, _ in found):  # retry: the second answer failed too
            message["content"], choice["finish_reason"] = policy.refusal, "content_filter"
            continue
        masks = [f for rule, findings in found if rule.action == "redact" for f in findings]
        if masks:
            message["content"] = engine.redact(text, masks)
    _record(verdicts, "output", policy, started, flagged)
    return orjson.dumps(payload) if flagged else content


def _record(verdicts: Verdicts, stage: str, policy: Policy, started: int, flagged: list[str]) -> None:
    verdicts.entries += flagged
    attributes = {
        "keel.guardrail.policy": policy.name,
        "keel.guardrail.stage": stage,
        "keel.guardrail.flagged": list(dict.fromkeys(flagged)),
    }
    if verdicts.errors:
        attributes["keel.guardrail.errors"] = list(verdicts.errors)
    verdicts.spans.append((stage, started, time.time_ns(), attributes))


def held_stream(
    policy: Policy,
    output: str | None,
    model: str | None,
    finish: list[str],
    usage: Any,
    wants_usage: bool,
    verdicts: Verdicts,
) -> tuple[bytes, str]:
    """The whole answer of a held-back stream, checked, as the chunks a client expects; and the text sent."""
    body = {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": output or ""},
                "finish_reason": finish[-1] if finish else "stop",
            }
        ]
    }
    checked = orjson.loads(guard_output(policy, orjson.dumps(body), verdicts))["choices"][0]
    head = {
        "id": f"chatcmpl-{time.time_ns():x}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model or "",
    }
    events = [
        {
            **head,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": checked["message"]["content"]},
                    "finish_reason": None,
                }
            ],
        },
        {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": checked["finish_reason"]}]},
    ]
    if wants_usage and usage:
        events.append({**head, "choices": [], "usage": usage})
    lines = b"".join(b"data: " + orjson.dumps(event) + b"\n\n" for event in events)
    return lines + b"data: [DONE]\n\n", str(checked["message"]["content"])
