"""Trace ingest and retention settings."""

from pydantic import BaseModel, Field


class TraceSettings(BaseModel):
    trace_retention_days: int = Field(
        default=30, ge=0, description="Default days a project keeps traces; 0 keeps them forever."
    )
    trace_queue_max_spans: int = Field(
        default=200_000,
        ge=1000,
        description="Spans accepted but not yet committed before ingest answers 503 with Retry-After.",
    )
    trace_batch_max_spans: int = Field(
        default=5000, ge=1, description="Most spans the trace writer commits in one transaction."
    )
    trace_linger_ms: float = Field(
        default=50.0,
        ge=0,
        le=1000,
        description="How long the trace writer waits to gather Keel's own spans (the gateway's) into one "
        "commit; nobody waits on those, so a short delay turns many small commits into one.",
    )
    trace_max_value_bytes: int = Field(
        default=64 * 1024,
        ge=256,
        description="Longest input, output or attribute value stored; longer ones are cut with a marker.",
    )
    trace_sweep_seconds: float = Field(
        default=300.0, gt=0, description="How often expired traces are deleted in the background."
    )
    trace_sweep_batch: int = Field(
        default=5000, ge=1, description="Spans deleted per transaction by the retention sweep."
    )
