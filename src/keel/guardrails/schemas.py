"""Guardrails API shapes."""

from typing import Any

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
