"""`secrets`: credentials that must not reach a third-party API or a log: cloud and SaaS keys, bearer tokens,
JWTs and private key blocks. The patterns are the high-confidence rules of gitleaks' default set (fixed
prefixes and lengths, so ordinary text does not match), written out here because the maintained pattern
libraries on PyPI (detect-secrets) scan files, not strings, and were last released in 2024."""

import re
from dataclasses import dataclass
from typing import Any

from keel.core.errors import InvalidInput
from keel.guardrails.checks.base import Finding, Result, flagged_by

PATTERNS: dict[str, re.Pattern[str]] = {
    "AWS_ACCESS_KEY": re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    "ANTHROPIC_KEY": re.compile(r"\bsk-ant-[A-Za-z0-9_-]{32,}"),
    "OPENAI_KEY": re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}(?<!-)"),
    "GITHUB_TOKEN": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    "SLACK_TOKEN": re.compile(r"\bxox[abposr]-(?:[0-9A-Za-z]+-){1,4}[0-9A-Za-z]{6,}\b"),
    "GOOGLE_API_KEY": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "STRIPE_KEY": re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,}\b"),
    "KEEL_API_KEY": re.compile(r"\bkeel_[A-Za-z0-9_-]{40,}"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "PRIVATE_KEY": re.compile(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    ),
}


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
        return Prepared(tuple(types))

    def run(self, text: str, prepared: Prepared) -> Result:
        found: list[Finding] = []
        for kind in prepared.types:
            for match in PATTERNS[kind].finditer(text):
                if not any(
                    f.start <= match.start() < f.end for f in found
                ):  # sk-ant-… is not also OPENAI_KEY
                    found.append(Finding(kind, match.start(), match.end()))
        return flagged_by(self.name, found)
