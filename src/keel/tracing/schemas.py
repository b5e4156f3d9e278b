"""Trace query parameters and response bodies."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SortKey = Literal["start", "duration", "cost", "tokens", "updated"]
GroupKey = Literal["model", "route", "prompt_version", "tag", "name", "user", "session", "status", "none"]


class TraceFilters(BaseModel):
    """The traces list's filters, without paging (dataset selectors take the same)."""

    model_config = ConfigDict(extra="forbid")

    since: datetime | None = None
    until: datetime | None = None
    name: str | None = None
    model: str | None = None
    status: Literal["ok", "error", "unset"] | None = None
    user: str | None = None
    session: str | None = None
    tag: str | None = None
    route: str | None = None
    prompt_version: str | None = None
    min_latency_ms: float | None = Field(default=None, ge=0)
    min_cost_usd: Decimal | None = Field(default=None, ge=0)
    q: str | None = Field(default=None, min_length=1, max_length=200, description="Text in any span's I/O.")


class TraceQuery(TraceFilters):
    sort: SortKey = "start"
    order: Literal["asc", "desc"] = "desc"
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None


class TraceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    trace_id: str
    name: str
    service_name: str | None
    start_time: datetime
    end_time: datetime
    duration_ms: float
    status: str
    span_count: int
    error_count: int
    llm_calls: int
    model: str | None
    provider: str | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: Decimal
    user_id: str | None
    session_id: str | None
    tags: list[str]
    prompt_version: str | None
    route: str | None
    variant: str | None
    input: str | None
    output: str | None
    has_root: bool


class TraceList(BaseModel):
    items: list[TraceOut]
    next_cursor: str | None


class SpanOut(BaseModel):
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    span_type: str | None
    start_time: datetime
    end_time: datetime
    duration_ms: float
    status: str
    status_message: str | None
    service_name: str | None
    model: str | None
    provider: str | None
    operation: str | None
    input: str | None
    output: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    cached_tokens: int | None
    reasoning_tokens: int | None
    cost_usd: Decimal | None
    ttft_ms: float | None
    user_id: str | None
    session_id: str | None
    tags: list[str]
    prompt_version: str | None
    route: str | None
    variant: str | None
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    resource: dict[str, Any] | None
    children: list["SpanOut"] = Field(default_factory=list)


class TraceDetail(TraceOut):
    spans: list[SpanOut] = Field(description="Root spans; each holds its children. Orphans are roots too.")


class AggregateQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: datetime | None = None
    until: datetime | None = None
    bucket: Literal["1m", "5m", "15m", "1h", "6h", "1d"] = "1h"
    group_by: GroupKey = "none"
    feedback: str | None = Field(default=None, max_length=100, description="Add this feedback score's mean.")


class Bucket(BaseModel):
    bucket_start: datetime
    group: str | None
    count: int
    errors: int
    error_rate: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: Decimal
    feedback: dict[str, Any] | None = None


class AggregateList(BaseModel):
    items: list[Bucket]


class Retention(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(ge=0, le=36500, description="Days to keep traces; 0 keeps them forever.")


class IngestResult(BaseModel):
    accepted: int
    rejected: int
    errors: list[str]
