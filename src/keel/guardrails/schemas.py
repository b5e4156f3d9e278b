"""Guardrails API shapes."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict)


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        max_length=1_000_000, description="The text to check (a prompt, an answer, a document)."
    )
    checks: list[str | CheckIn] = Field(
        min_length=1, max_length=50, description='Check names, or {"name", "params"} objects.'
    )


class FindingOut(BaseModel):
    type: str
    start: int
    end: int


class ResultOut(BaseModel):
    check: str
    flagged: bool
    score: float
    findings: list[FindingOut]


class CheckResponse(BaseModel):
    flagged: bool
    results: list[ResultOut]
    redacted: str = Field(description="The text with every finding replaced by [TYPE].")


class CheckKind(BaseModel):
    name: str
    description: str


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check: str = Field(min_length=1, max_length=100, description="A registered check (GET .../checks).")
    action: Literal["block", "redact", "monitor", "retry"] = Field(
        default="block",
        description="block: refuse (input: 400 guardrail_blocked; output: the policy's refusal); redact: "
        "replace findings by [TYPE]; monitor: record only; retry (output): ask the model again once with "
        "the reason, then refuse if it still fails.",
    )
    params: dict[str, Any] = Field(default_factory=dict)
    on_error: Literal["closed", "open"] | None = Field(
        default=None,
        description="When the check itself fails: closed treats the text as flagged, open lets it through "
        "(default: closed for block, open otherwise). Either way the failure is on the trace.",
    )


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str = Field(default="", max_length=2000)
    input: list[RuleIn] = Field(default_factory=list, max_length=20, description="Checks on what is sent.")
    output: list[RuleIn] = Field(default_factory=list, max_length=20, description="Checks on the answer.")
    refusal: str = Field(
        default="I can't help with that.",
        min_length=1,
        max_length=2000,
        description="What the caller gets in place of an answer an output rule blocks.",
    )


class PolicyOut(PolicyIn):
    id: str
    created_at: datetime
    updated_at: datetime


class PolicyList(BaseModel):
    items: list[PolicyOut]
