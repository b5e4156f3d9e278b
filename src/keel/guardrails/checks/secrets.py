"""`secrets`: credentials that must not reach a third-party API or a log: cloud and SaaS keys, bearer tokens,
JWTs and private key blocks. The patterns are the high-confidence rules of gitleaks' default set (fixed
prefixes and lengths, so ordinary text does not match), written out here because the maintained pattern
libraries on PyPI (detect-secrets) scan files, not strings, and were last released in 2024."""

import re
from dataclasses import dataclass
from typing import Any

from keel.core.errors import InvalidInput
from keel.guardrails.checks.base import Finding, Result, flagged_by

PATTERNS: dict[str, str] = {  # order matters where prefixes overlap: sk-ant-… is Anthropic's, not OpenAI's
    "AWS_ACCESS_KEY": r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b",
    "ANTHROPIC_KEY": r"\bsk-ant-[A-Za-z0-9_-]{32,}",
    "OPENAI_KEY": r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}(?<!-)",
    "GITHUB_TOKEN": r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
    "SLACK_TOKEN": r"\bxox[abposr]-(?:[0-9A-Za-z]+-){1,4}[0-9A-Za-z]{6,}\b",
    "GOOGLE_API_KEY": r"\bAIza[0-9A-Za-z_-]{35}\b",
    "STRIPE_KEY": r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,}\b",
    "KEEL_API_KEY": r"\bkeel_[A-Za-z0-9_-]{40,}",
    "JWT": r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    "PRIVATE_KEY": (
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    ),
}


HINTS: dict[str, tuple[str, ...]] = {  # literals every match contains: a pattern runs only if one is present
    "AWS_ACCESS_KEY": ("AKIA", "ASIA", "ABIA", "ACCA"),
    "ANTHROPIC_KEY": ("sk-ant-",),
    "OPENAI_KEY": ("sk-",),
    "GITHUB_TOKEN": ("gh", "github_pat_"),
    "SLACK_TOKEN": ("xox",),
    "GOOGLE_API_KEY": ("AIza",),
    "STRIPE_KEY": ("_live_", "_test_"),
    "KEEL_API_KEY": ("keel_",),
    "JWT": ("eyJ",),
    "PRIVATE_KEY": ("PRIVATE KEY",),
}
COMPILED = {kind: re.compile(pattern) for kind, pattern in PATTERNS.items()}


@dataclass(frozen=True)
class Prepared:
    types: tuple[str, ...]


class Secrets:
    name = "secrets"
    description = "Cloud and SaaS API keys, GitHub/Slack tokens, JWTs and private key blocks."

    def prepare(self, params: dict[str, Any], where: str) -> Prepared:
        unknown = set(params) - {"types"}
        if unknown:
            raise InvalidInput(f"secrets takes types; not {', '.join(sorted(unknown))}", param=where)
        types = params.get("types", list(PATTERNS))
        if not isinstance(types, list) or not types or not set(types) <= set(PATTERNS):
            raise InvalidInput(f"secrets types must be some of {', '.join(PATTERNS)}", param=f"{where}.types")
        return Prepared(tuple(kind for kind in PATTERNS if kind in types))

    def run(self, text: str, prepared: Prepared) -> Result:
        found: list[Finding] = []
        for kind in prepared.types:
            if not any(hint in text for hint in HINTS[kind]):
                continue
            for match in COMPILED[kind].finditer(text):
                if not any(f.start <= match.start() < f.end for f in found):  # sk-ant-… is not OPENAI_KEY too
                    found.append(Finding(kind, match.start(), match.end()))
        return flagged_by(self.name, found)
