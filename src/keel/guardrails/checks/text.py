"""Checks on the text as text: `regex` (a pattern you give), `deny_terms` (words or phrases, whole-word and
case-insensitive), `max_length` (characters) and `json_schema` (an answer that must be JSON of a shape)."""

import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema

from keel.core.errors import InvalidInput
from keel.core.jsonschemas import compile_schema
from keel.guardrails.checks.base import Finding, Result, flagged_by

MAX_PATTERN = 2000
# A group that repeats and is itself repeated ((a+)+, (x*)*, (ab|a)+{2,}...) can backtrack exponentially on
# a hostile text; Python's re has no timeout, so such patterns are refused when the rule is saved.
NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")


def _only(params: dict[str, Any], allowed: set[str], check: str, where: str) -> None:
    unknown = set(params) - allowed
    if unknown:
        raise InvalidInput(
            f"{check} takes {', '.join(sorted(allowed))}; not {', '.join(sorted(unknown))}", param=where
        )


@dataclass(frozen=True)
class Pattern:
    pattern: re.Pattern[str]
    type: str


class Regex:
    name = "regex"
    description = (
        "Flags every match of `pattern` (Python syntax; `ignore_case`, and `type` names the finding)."
    )

    def prepare(self, params: dict[str, Any], where: str) -> Pattern:
        _only(params, {"pattern", "ignore_case", "type"}, self.name, where)
        source = params.get("pattern")
        if not isinstance(source, str) or not source or len(source) > MAX_PATTERN:
            raise InvalidInput(
                f"regex needs a pattern of 1 to {MAX_PATTERN} characters", param=f"{where}.pattern"
            )
        try:
            compiled = re.compile(source, re.IGNORECASE if params.get("ignore_case") else 0)
        except re.error as exc:
            raise InvalidInput(f"regex pattern does not compile: {exc}", param=f"{where}.pattern") from None
        if NESTED_QUANTIFIER.search(source):
            raise InvalidInput(
                "regex pattern repeats a group that itself repeats (like (a+)+), which can take exponential "
                "time on some texts; rewrite it without the nested quantifier",
                param=f"{where}.pattern",
            )
        kind = params.get("type", "MATCH")
        if not isinstance(kind, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]{0,49}", kind):
            raise InvalidInput("regex type must be UPPER_SNAKE_CASE", param=f"{where}.type")
        return Pattern(compiled, kind)

    def run(self, text: str, prepared: Pattern) -> Result:
        found = [
            Finding(prepared.type, m.start(), m.end())
            for m in prepared.pattern.finditer(text)
            if m.end() > m.start()
        ]
        return flagged_by(self.name, found)


class DenyTerms:
    name = "deny_terms"
    description = "Flags any of `terms` (whole words or phrases, case-insensitive)."

    def prepare(self, params: dict[str, Any], where: str) -> Pattern:
        _only(params, {"terms"}, self.name, where)
        terms = params.get("terms")
        if (
            not isinstance(terms, list)
            or not terms
            or not all(isinstance(t, str) and t.strip() for t in terms)
        ):
            raise InvalidInput("deny_terms needs a non-empty list of terms", param=f"{where}.terms")
        alternatives = "|".join(re.escape(t.strip()) for t in sorted(terms, key=len, reverse=True))
        return Pattern(re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE), "DENIED_TERM")

    def run(self, text: str, prepared: Pattern) -> Result:
        return flagged_by(
            self.name, [Finding(prepared.type, m.start(), m.end()) for m in prepared.pattern.finditer(text)]
        )


class MaxLength:
    name = "max_length"
    description = "Flags text longer than `max_chars` characters (the finding spans the excess)."

    def prepare(self, params: dict[str, Any], where: str) -> int:
        _only(params, {"max_chars"}, self.name, where)
        limit = params.get("max_chars")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise InvalidInput("max_length needs max_chars, a positive integer", param=f"{where}.max_chars")
        return limit

    def run(self, text: str, prepared: int) -> Result:
        over = len(text) > prepared
        return Result(
            self.name, over, 1.0 if over else 0.0, [Finding("TOO_LONG", prepared, len(text))] if over else []
        )


@dataclass(frozen=True)
class Schema:
    validator: Any


class JsonSchema:
    name = "json_schema"
    description = (
        "Flags an answer that is not JSON matching `schema` (a JSON Schema); `retry` asks again once."
    )

    def prepare(self, params: dict[str, Any], where: str) -> Schema:
        _only(params, {"schema"}, self.name, where)
        try:
            return Schema(compile_schema(params.get("schema")))
        except ValueError as exc:
            raise InvalidInput(f"json_schema's schema: {exc}", param=f"{where}.schema") from None

    def run(self, text: str, prepared: Schema) -> Result:
        body = text.strip()
        if body.startswith("```"):  # a fenced block: the JSON inside it
            body = body.split("\n", 1)[-1].rsplit("```", 1)[0]
        try:
            value = json.loads(body)
        except ValueError as exc:
            return _violation(self.name, text, f"the answer is not JSON ({exc})")
        error = jsonschema.exceptions.best_match(prepared.validator.iter_errors(value))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "the top level"
            return _violation(self.name, text, f"at {where}: {error.message}")
        return Result(self.name, False, 0.0)


def _violation(check: str, text: str, detail: str) -> Result:
    return Result(check, True, 1.0, [Finding("SCHEMA_VIOLATION", 0, len(text))], detail[:500])


BUILT_IN = (Regex(), DenyTerms(), MaxLength(), JsonSchema())
