"""A route's canary release as `GET /api/v1/routes/{name}/canary` shows it."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Action = Literal["pause", "resume", "rollback", "promote"]


class OverruleIn(BaseModel):
    reason: str | None = Field(default=None, max_length=2000, description="why, for the decision history")


class DecisionOut(BaseModel):
    id: str
    canary_id: str
    step: int
    weight: int = Field(description="the candidate's share (%) while the decided step ran")
    verdict: str = Field(description="pass, marginal, fail, wait, or override (a person decided)")
    action: str = Field(description="advance, promote, rollback, pause, resume, hold or wait")
    score: float | None
    reason: str
    metrics: list[dict[str, Any]] = Field(
        description="per metric: both arms' values, change, p-value, interval"
    )
    traces: dict[str, list[str]] = Field(description="the trace ids each arm contributed")
    author: str
    notified: str | None
    at: datetime


class CanaryOut(BaseModel):
    route: str
    id: str
    state: Literal["running", "paused", "promoted", "rolled_back"]
    step: int
    weight: int = Field(description="the candidate's traffic share now (%)")
    steps: list[int]
    target: dict[str, Any]
    baseline: list[dict[str, Any]]
    reason: str
    started_at: datetime
    step_started_at: datetime
    spec: dict[str, Any]
    live: dict[str, Any] | None = Field(
        description="the judge's reading of the current step so far (running or paused only)"
    )
    decisions: list[DecisionOut]
