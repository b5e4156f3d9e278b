"""A canary release on a route, as the API and `keel apply` write it.

Each metric says which direction of change is bad and how much change is allowed. Rates (`error_rate`,
`guardrail_block_rate`) and scores compare in absolute terms by default (a zero baseline has no relative
change); latencies and cost compare relative to the baseline.
"""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from keel.core.channels import ChannelIn

GATEWAY_METRICS = {
    "error_rate": "share of the arm's calls whose own attempt failed (also when a fallback rescued it)",
    "latency_p50": "median duration of the arm's successful calls",
    "latency_p95": "95th percentile duration of the arm's successful calls",
    "ttft_p50": "median time to first token of the arm's streamed calls",
    "ttft_p95": "95th percentile time to first token of the arm's streamed calls",
    "cost_per_call": "mean priced cost of the arm's successful calls",
    "guardrail_block_rate": "share of the arm's answers blocked by an output guardrail",
}
SCORE_PREFIXES = ("feedback:", "score:")  # feedback:NAME / score:NAME: feedback or online-eval scores
RATES = frozenset({"error_rate", "guardrail_block_rate"})
UNITS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}


def seconds(text: str | float) -> float:
    """`"2m"`, `"30s"`, `"1h"`, `"500ms"` or a number of seconds."""
    if isinstance(text, int | float):
        return float(text)
    match = UNITS.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration (e.g. 30s, 2m, 1h)")
    return float(match.group(1)) * SECONDS[match.group(2)]


class CanaryMetricIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        description="a gateway metric (error_rate, latency_p95, ...) or feedback:NAME / score:NAME"
    )
    direction: Literal["increase", "decrease", "either"] | None = Field(
        default=None, description="which change is bad; default increase, and decrease for feedback/scores"
    )
    allowed_change: float | None = Field(
        default=None,
        ge=0,
        description="largest tolerated change in the bad direction; default 0.02 for rates, 0.2 (20%) for "
        "latency and cost, 0.1 for scores",
    )
    mode: Literal["relative", "absolute"] | None = Field(
        default=None, description="how `allowed_change` is read; default absolute for rates and scores"
    )
    weight: float = Field(default=1.0, gt=0, le=100, description="share of the step's score")
    critical: bool | None = Field(
        default=None, description="a failure of this metric alone fails the step (default: error_rate)"
    )
    min_samples: int | None = Field(
        default=None, ge=5, le=1_000_000, description="per arm; default the canary's min_calls (scores: 30)"
    )

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        if name in GATEWAY_METRICS:
            return name
        prefix = next((p for p in SCORE_PREFIXES if name.startswith(p)), None)
        if prefix is None or not name[len(prefix) :].strip() or len(name) > 120:
            known = ", ".join([*GATEWAY_METRICS, "feedback:NAME", "score:NAME"])
            raise ValueError(f"unknown canary metric {name!r}; use one of {known}")
        return name

    @property
    def is_score(self) -> bool:
        return self.name.startswith(SCORE_PREFIXES)

    def resolved(self, min_calls: int) -> "CanaryMetricIn":
        """The metric with every default filled in, as the judge reads it."""
        score, rate = self.is_score, self.name in RATES
        return self.model_copy(
            update={
                "direction": self.direction or ("decrease" if score else "increase"),
                "allowed_change": self.allowed_change
                if self.allowed_change is not None
                else (0.1 if score else 0.02 if rate else 0.2),
                "mode": self.mode or ("absolute" if score or rate else "relative"),
                "critical": self.critical if self.critical is not None else self.name == "error_rate",
                "min_samples": self.min_samples or (30 if score else min_calls),
            }
        )


class CanaryTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(min_length=1, max_length=100)
    model: str = Field(min_length=1, max_length=200, description="e.g. a registry version: NAME@v3")
    variant: str | None = Field(default=None, max_length=100, description="label on traces; default model")


def default_metrics() -> list[CanaryMetricIn]:
    return [CanaryMetricIn(name="error_rate"), CanaryMetricIn(name="latency_p95")]


class CanaryPlan(BaseModel):
    """How a release goes, whatever the candidate (a closed loop fills the candidate in per run)."""

    model_config = ConfigDict(extra="forbid")

    steps: list[int] = Field(
        default_factory=lambda: [5, 25, 50, 100],
        min_length=2,
        max_length=20,
        description="the candidate's traffic share (%) at each step, increasing to 100 (= promotion)",
    )
    interval: str | float = Field(default="2m", description="how long each step lasts before it can pass")
    min_calls: int = Field(default=200, ge=10, le=1_000_000, description="candidate calls before any verdict")
    metrics: list[CanaryMetricIn] = Field(default_factory=default_metrics, min_length=1, max_length=20)
    on_pass: Literal["promote", "pause"] = Field(
        default="promote", description="after the last step: promote, or pause for a person to promote"
    )
    on_fail: Literal["rollback", "pause"] = Field(default="rollback")
    pass_score: float = Field(default=95, gt=0, le=100, description="a step's score (0-100) that passes")
    marginal_score: float = Field(default=75, ge=0, le=100, description="below this a step fails")
    confidence: float = Field(default=0.95, ge=0.5, lt=1, description="of each metric's test")
    max_marginal: int = Field(default=3, ge=1, le=100, description="marginal steps in a row that fail")
    notify: list[ChannelIn] = Field(default_factory=list, max_length=10, description="alert channels")

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str | float) -> str | float:
        if not 1 <= seconds(value) <= 7 * 86400:
            raise ValueError("interval must be from 1s to 7 days")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "CanaryPlan":
        steps = self.steps
        if any(not 0 < s <= 100 for s in steps) or any(
            a >= b for a, b in zip(steps, steps[1:], strict=False)
        ):
            raise ValueError(f"steps must be increasing percentages from 1 to 100; got {steps}")
        if steps[-1] != 100:
            raise ValueError(f"steps must end at 100 (the promotion); got {steps}")
        if self.marginal_score > self.pass_score:
            raise ValueError("marginal_score must not exceed pass_score")
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError("each metric may appear once")
        return self

    @property
    def interval_s(self) -> float:
        return seconds(self.interval)


class CanaryIn(CanaryPlan):
    target: CanaryTarget = Field(description="the candidate; the route's own targets are the baseline")
