"""Canary decisions (the step, the numbers per metric, the traces it read), loops and their runs."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keel.core.clock import utcnow
from keel.db.base import Base, JSONType


class CanaryDecision(Base):
    __tablename__ = "canary_decisions"
    __table_args__ = (Index("ix_canary_decisions_project_route", "project_id", "route", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    route: Mapped[str] = mapped_column(String(200))
    canary_id: Mapped[str] = mapped_column(String(32), index=True)
    step: Mapped[int]
    weight: Mapped[int]
    verdict: Mapped[str] = mapped_column(String(16))  # pass, marginal, fail, wait
    action: Mapped[str] = mapped_column(String(16))  # advance, promote, rollback, pause, hold, resume, ...
    score: Mapped[float | None]
    reason: Mapped[str] = mapped_column(Text)
    metrics: Mapped[list[Any]] = mapped_column(JSONType)
    traces: Mapped[dict[str, Any]] = mapped_column(JSONType)
    author: Mapped[str] = mapped_column(String(64))  # "judge", or the key that overruled it
    notified: Mapped[str | None] = mapped_column(Text, default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Loop(Base):
    __tablename__ = "loops"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_loops_project_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    enabled: Mapped[bool] = mapped_column(default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(default=None)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoopRun(Base):
    """One pass around the loop, with links to everything it made."""

    __tablename__ = "loop_runs"
    __table_args__ = (Index("ix_loop_runs_loop_number", "loop_id", "number", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    loop_id: Mapped[str] = mapped_column(ForeignKey("loops.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    trigger: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    dataset: Mapped[str] = mapped_column(String(200))
    dataset_version: Mapped[int | None] = mapped_column(default=None)
    finetune_run_id: Mapped[str | None] = mapped_column(String(32), default=None)
    model_version: Mapped[str | None] = mapped_column(String(300), default=None)
    experiments: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    route: Mapped[str | None] = mapped_column(String(200), default=None)
    canary_id: Mapped[str | None] = mapped_column(String(32), default=None)
    log: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
