"""Every decision a canary's judge made: the step, the numbers per metric, and the traces it read."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
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
