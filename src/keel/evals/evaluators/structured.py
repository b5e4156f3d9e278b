"""JSON validity, JSON-schema validity and numeric closeness."""

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from keel.core.jsonschemas import compile_schema
from keel.evals.evaluators.base import EvalContext, Evaluator, Result, Sample, each, text

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def json_valid(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    def one(sample: Sample) -> Result:
        if not isinstance(sample.output, str):
            return {"json_valid": 1.0}
        try:
            json.loads(sample.output)
        except json.JSONDecodeError:
            return {"json_valid": 0.0}
        return {"json_valid": 1.0}

    return each(samples, False, one)


def json_schema(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    schema = params.get("schema")
    if not isinstance(schema, dict):
        raise ValueError("json_schema needs params.schema (a JSON Schema object)")
    try:
        validator = compile_schema(schema)
    except ValueError as exc:
        raise ValueError(f"params.schema is {exc}") from None

    def one(sample: Sample) -> Result:
        value = sample.output
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                return {"json_schema": 0.0}
        return {"json_schema": float(validator.is_valid(value))}

    return each(samples, False, one)


def _number(value: Any, last: bool) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    found = _NUMBER.findall(text(value))
    if not found:
        raise ValueError(f"no number in {text(value)[:80]!r}")
    return float((found[-1] if last else found[0]).replace(",", ""))


def numeric(samples: Sequence[Sample], params: dict[str, Any], ctx: EvalContext | None) -> list[Result]:
    abs_tol = float(params.get("abs_tol", 1e-6))
    rel_tol = float(params.get("rel_tol", 0.0))
    last = params.get("take", "last") == "last"

    def one(sample: Sample) -> Result:
        want = _number(sample.expected, last)  # a reference without a number cannot be judged: Failed
        try:
            got = _number(sample.output, last)
        except ValueError:
            return {"numeric": 0.0}  # an answer without a number is a wrong answer
        return {"numeric": float(math.isclose(got, want, rel_tol=rel_tol, abs_tol=abs_tol))}

    return each(samples, True, one)


JSON_VALID = Evaluator("json_valid", "1 when the output parses as JSON.", ("json_valid",), False, json_valid)
JSON_SCHEMA = Evaluator(
    "json_schema",
    "1 when the output is JSON valid against params.schema.",
    ("json_schema",),
    False,
    json_schema,
    {"schema": "a JSON Schema object"},
)
NUMERIC = Evaluator(
    "numeric",
    "1 when the number in the output is close to the one in `expected` (GSM8K-style).",
    ("numeric",),
    True,
    numeric,
    {
        "abs_tol": "absolute tolerance (default 1e-6)",
        "rel_tol": "relative tolerance",
        "take": "last|first number",
    },
)
