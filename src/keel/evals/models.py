"""Experiments: a task run over one pinned dataset version, scored by evaluators, one result row per item.

`(experiment_id, item_key)` is unique, so a resumed run skips items that already have a result and no item
is ever scored twice into the summary.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keel.core.clock import utcnow
from keel.db.base import Base, JSONType


class Experiment(Base):
    __tablename__ = "experiments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    dataset_version: Mapped[int]
    split: Mapped[str | None] = mapped_column(String(32))
    task: Mapped[dict[str, Any]]
    evaluators: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    concurrency: Mapped[int] = mapped_column(default=8)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    job_id: Mapped[str | None] = mapped_column(String(32))
    total: Mapped[int] = mapped_column(default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ExperimentResult(Base):
    __tablename__ = "experiment_results"
    __table_args__ = (UniqueConstraint("experiment_id", "item_key", name="uq_experiment_results_item"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(32))
    input: Mapped[Any] = mapped_column(JSONType)
    expected: Mapped[Any | None] = mapped_column(JSONType)
    output: Mapped[Any | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    scores: Mapped[dict[str, Any]]
    score_errors: Mapped[dict[str, Any]]
    reasons: Mapped[dict[str, Any]]
    trace_id: Mapped[str | None] = mapped_column(String(64))
    latency_ms: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OnlineRule(Base):
    """Evaluate a sample of production traces in the background; scores land on the traces as feedback."""

    __tablename__ = "online_eval_rules"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_online_eval_rules_project_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    filter: Mapped[dict[str, Any]]
    sample_rate: Mapped[float]
    evaluators: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    enabled: Mapped[bool] = mapped_column(default=True)
    cursor_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    evaluated: Mapped[int] = mapped_column(default=0)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
