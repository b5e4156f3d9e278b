"""Spans, per-trace rollups and per-project retention.

Spans keep the OpenTelemetry shape (ids as lowercase hex, times as Unix nanoseconds) plus first-class LLM
columns mapped from `gen_ai.*`/OpenInference attributes, so queries never parse JSON. `traces` is a rollup
rebuilt from a trace's spans whenever new spans arrive: list pages, filters and aggregates read it, not spans.
"""

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from keel.db.base import Base


class Span(Base):
    __tablename__ = "spans"
    __table_args__ = (Index("uq_spans_identity", "project_id", "trace_id", "span_id", unique=True),)

    pk: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str] = mapped_column(String(16))
    parent_span_id: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    span_type: Mapped[str | None] = mapped_column(String(32))
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[float]
    status: Mapped[str] = mapped_column(String(8))
    status_message: Mapped[str | None] = mapped_column(Text)
    service_name: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(100))
    operation: Mapped[str | None] = mapped_column(String(50))
    input: Mapped[str | None] = mapped_column(Text)
    output: Mapped[str | None] = mapped_column(Text)
    prompt_tokens: Mapped[int | None]
    completion_tokens: Mapped[int | None]
    total_tokens: Mapped[int | None]
    cached_tokens: Mapped[int | None]
    reasoning_tokens: Mapped[int | None]
    cost_micros: Mapped[int | None] = mapped_column(BigInteger)
    ttft_ms: Mapped[float | None]
    user_id: Mapped[str | None] = mapped_column(String(200))
    session_id: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[str | None] = mapped_column(String(1000))
    prompt_version: Mapped[str | None] = mapped_column(String(200))
    route: Mapped[str | None] = mapped_column(String(200))
    variant: Mapped[str | None] = mapped_column(String(100))
    attributes: Mapped[dict[str, Any]]
    events: Mapped[dict[str, Any] | None]
    resource: Mapped[dict[str, Any] | None]
    ingested_ns: Mapped[int] = mapped_column(BigInteger)


class Trace(Base):
    __tablename__ = "traces"
    __table_args__ = (
        Index("ix_traces_project_start", "project_id", "start_ns", "trace_id"),
        Index("ix_traces_project_session", "project_id", "session_id"),
        Index("ix_traces_project_updated", "project_id", "updated_ns"),
        Index("ix_traces_project_user", "project_id", "user_id"),
        Index("ix_traces_project_cost", "project_id", "cost_micros", "trace_id"),
        Index("ix_traces_project_duration", "project_id", "duration_ms", "trace_id"),
        Index("ix_traces_project_tokens", "project_id", "total_tokens", "trace_id"),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    service_name: Mapped[str | None] = mapped_column(String(200))
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[float]
    status: Mapped[str] = mapped_column(String(8))
    span_count: Mapped[int]
    error_count: Mapped[int]
    llm_calls: Mapped[int]
    model: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(100))
    prompt_tokens: Mapped[int]
    completion_tokens: Mapped[int]
    total_tokens: Mapped[int]
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[str | None] = mapped_column(String(200))
    session_id: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[str | None] = mapped_column(String(1000))
    prompt_version: Mapped[str | None] = mapped_column(String(200))
    route: Mapped[str | None] = mapped_column(String(200))
    variant: Mapped[str | None] = mapped_column(String(100))
    input: Mapped[str | None] = mapped_column(Text)
    output: Mapped[str | None] = mapped_column(Text)
    has_root: Mapped[bool]
    updated_ns: Mapped[int] = mapped_column(BigInteger)


class TraceRetention(Base):
    __tablename__ = "trace_retention"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    days: Mapped[int]
