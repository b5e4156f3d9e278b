"""Exact match, contains and regex: string checks on the output."""

import re
from collections.abc import Sequence
from typing import Any

from keel.evals.evaluators.base import EvalContext, Evaluator, Result, Sample, each, text


def _normal(value: str, params: dict[str, Any]) -> str:
    value = value.strip() if params.get("strip", True) else value
    return value.lower() if params.get("ignore_case", False) else value


def exact(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    return each(
        samples,
        True,
        lambda s: {
            "exact_match": float(_normal(text(s.output), params) == _normal(text(s.expected), params))
        },
    )


def contains(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    fixed = params.get("value")

    def one(sample: Sample) -> Result:
        needle = _normal(str(fixed) if fixed is not None else text(sample.expected), params)
        if not needle:
            raise ValueError("nothing to look for: set params.value or give the item an `expected`")
        return {"contains": float(needle in _normal(text(sample.output), params))}

    return each(samples, False, one)


def regex(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    pattern = params.get("pattern")
    if not isinstance(pattern, str):
        raise ValueError("regex needs params.pattern")
    try:
        compiled = re.compile(pattern, re.IGNORECASE if params.get("ignore_case") else 0)
    except re.error as exc:
        raise ValueError(f"params.pattern is not a valid regular expression: {exc}") from None
    return each(samples, False, lambda s: {"regex": float(compiled.search(text(s.output)) is not None)})


EXACT = Evaluator(
    "exact_match",
    "1 when the output equals `expected` (stripped).",
    ("exact_match",),
    True,
    exact,
    {"ignore_case": "compare case-insensitively", "strip": "strip whitespace first (default true)"},
)
CONTAINS = Evaluator(
    "contains",
    "1 when the output contains `expected` (or params.value).",
    ("contains",),
    False,
    contains,
    {"value": "a fixed string to look for", "ignore_case": "case-insensitive"},
)
REGEX = Evaluator(
    "regex",
    "1 when params.pattern matches the output.",
    ("regex",),
    False,
    regex,
    {"pattern": "a Python regular expression", "ignore_case": "case-insensitive"},
)
