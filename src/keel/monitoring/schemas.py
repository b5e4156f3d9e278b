"""Alert rules as the API and `keel apply` write them, and the alert history as it reads."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from keel.core.channels import ChannelIn
from keel.monitoring.drift import FeatureDrift

THRESHOLD_METRICS = {
    "request_count": "gateway calls in the window",
    "error_rate": "share of calls that failed (0-1)",
    "latency_p50_ms": "median call duration",
    "latency_p95_ms": "95th percentile call duration",
    "latency_p99_ms": "99th percentile call duration",
    "spend_usd": "priced spend in the window",
    "cost_per_call_usd": "mean priced cost of a call",
    "tokens": "input plus output tokens",
    "feedback_mean": "mean value of the feedback or score named by `filters.score` (e.g. groundedness)",
    "drifted_features": "numeric drift features (input_tokens, output_tokens, latency_ms, cost_usd, error) "
    "of the window that drifted from the window before it; `filters.feature` for one; e.g. >= 1",
    "budget_used": "share (0-1) of the daily budget (`filters.period: month`: the monthly one) spent by "
    "`filters.scope` (default project, or a key id); e.g. >= 0.8",
}
FILTER_KEYS = {"route", "model", "prompt_version", "score", "scope", "period", "feature"}
DRIFT_FEATURES = {"input_tokens", "output_tokens", "latency_ms", "cost_usd", "error"}


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str = Field(default="", max_length=2000)
    metric: str = Field(description="one of GET /api/v1/alerts/metrics")
    filters: dict[str, str] = Field(default_factory=dict, description="route, model, prompt_version, score")
    comparison: Literal[">", ">=", "<", "<="] = ">"
    threshold: float
    resolve_threshold: float | None = Field(
        default=None,
        description="hysteresis: a firing alert resolves only past this value (default threshold)",
    )
    window_s: int = Field(ge=1, le=30 * 86400, description="how far back each evaluation looks")
    min_count: int = Field(default=1, ge=1, le=1_000_000, description="fewer calls than this: no verdict")
    for_s: int = Field(
        default=0, ge=0, le=86400, description="how long the condition holds (pending) before firing"
    )
    channels: list[ChannelIn] = Field(default_factory=list, max_length=10)
    enabled: bool = True

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        if metric not in THRESHOLD_METRICS:
            raise ValueError(f"unknown metric {metric!r}; known: {', '.join(sorted(THRESHOLD_METRICS))}")
        return metric

    @field_validator("filters")
    @classmethod
    def _known_filters(cls, filters: dict[str, str]) -> dict[str, str]:
        return _only(filters, FILTER_KEYS)

    @model_validator(mode="after")
    def _consistent(self) -> "RuleIn":
        if self.filters.get("feature", "input_tokens") not in DRIFT_FEATURES:
            raise ValueError(f"filters.feature must be one of {', '.join(sorted(DRIFT_FEATURES))}")
        if self.filters.get("period", "day") not in ("day", "month"):
            raise ValueError("filters.period must be day or month")
        if self.metric == "feedback_mean" and not self.filters.get("score"):
            raise ValueError("feedback_mean needs `filters.score`: the feedback or score name")
        if self.resolve_threshold is not None:
            above = self.comparison in (">", ">=")
            if (above and self.resolve_threshold > self.threshold) or (
                not above and self.resolve_threshold < self.threshold
            ):
                raise ValueError("resolve_threshold must sit on the healthy side of threshold")
        return self


class ChannelOut(BaseModel):
    type: str
    url: str | None = None
    secret_set: bool = False
    to: list[str] | None = None


class RuleOut(BaseModel):
    id: str
    name: str
    description: str
    metric: str
    filters: dict[str, str]
    comparison: str
    threshold: float
    resolve_threshold: float | None
    window_s: int
    min_count: int
    for_s: int
    channels: list[ChannelOut]
    enabled: bool
    state: str
    state_since: datetime | None
    last_value: float | None
    last_count: int | None
    evaluated_at: datetime | None


class RuleList(BaseModel):
    items: list[RuleOut]
    next_cursor: str | None = None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    channel: int
    kind: str
    status: str
    attempts: int
    last_error: str | None
    delivered_at: datetime | None


class EventOut(BaseModel):
    id: str
    rule: str
    state: str
    value: float | None
    count: int | None
    message: str
    traces_url: str
    at: datetime
    deliveries: list[DeliveryOut]


class EventList(BaseModel):
    items: list[EventOut]
    next_cursor: str | None = None


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self.end <= self.start:
            raise ValueError("`to` must be after `from`")
        return self


class DatasetReference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*(@[0-9]+)?$",
        description="`name@version` (or `name`: its latest): what a model was evaluated or trained on",
    )


class DriftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filters: dict[str, str] = Field(default_factory=dict, description="route, model, prompt_version")
    reference: Window | DatasetReference = Field(
        description="a window of traces, or a dataset version (then: token lengths and meaning of inputs "
        "against the items' inputs, outputs against their expected answers)"
    )
    current: Window
    scores: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="feedback or online-eval score names to compare too (feature `score:NAME`); with a "
        "dataset reference, its items' `score.NAME` metadata (what the selector writes)",
    )
    meaning: bool = Field(
        default=True,
        description="also compare what inputs and outputs mean (bundled MiniLM embeddings of up to 500 "
        "texts per window, topic clusters with examples); needs the local models",
    )

    @field_validator("filters")
    @classmethod
    def _known_filters(cls, filters: dict[str, str]) -> dict[str, str]:
        return _only(filters, FILTER_KEYS - {"score", "scope", "period", "feature"})


class DriftReport(BaseModel):
    drifted: bool
    features: list[FeatureDrift]


def _only(filters: dict[str, str], known: set[str]) -> dict[str, str]:
    if unknown := set(filters) - known:
        raise ValueError(f"unknown filter(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    return filters
