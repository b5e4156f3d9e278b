"""Cost of a call from its token usage and the project's price table, in integer micro-dollars.

A price names a model exactly, or a prefix ending in `*`; the response's model is tried first, then the
requested model, then the route name; an exact name beats the longest matching prefix.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PriceRule:
    model: str
    input: int
    output: int
    cached_input: int | None


def find(rules: dict[str, PriceRule], *names: str | None) -> PriceRule | None:
    for name in names:
        if name and name in rules:
            return rules[name]
    for name in names:
        if not name:
            continue
        prefixes = [r for key, r in rules.items() if key.endswith("*") and name.startswith(key[:-1])]
        if prefixes:
            return max(prefixes, key=lambda r: len(r.model))
    return None


def cost_micros(rule: PriceRule, usage: dict[str, Any]) -> int:
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    cached_rate = rule.input if rule.cached_input is None else rule.cached_input
    total = (prompt - cached) * rule.input + cached * cached_rate + completion * rule.output
    return (total + 500_000) // 1_000_000
