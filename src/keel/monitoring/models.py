"""Alert rules, the state changes they went through, and each notification's delivery."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keel.core.clock import utcnow
from keel.db.base import Base, JSONType


class AlertRule(Base):
    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_alert_rules_project_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    metric: Mapped[str] = mapped_column(String(50))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType)
    comparison: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[float]
    resolve_threshold: Mapped[float | None]
    window_s: Mapped[int]
    min_count: Mapped[int]
    for_s: Mapped[int]
    channels: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # secrets sealed by the SecretBox
    enabled: Mapped[bool]
    state: Mapped[str] = mapped_column(String(16), default="ok")  # ok, pending, firing
    state_since: Mapped[datetime | None]
    last_value: Mapped[float | None]
    last_count: Mapped[int | None]
    evaluated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertEvent(Base):
    """A rule that started firing or resolved: what notifications are about, and the history."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_project_at", "project_id", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"), index=True)
    rule_name: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16))  # firing, resolved
    value: Mapped[float | None]
    count: Mapped[int | None]
    message: Mapped[str] = mapped_column(Text)
    traces_url: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertDelivery(Base):
    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_status_next", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("alert_events.id", ondelete="CASCADE"), index=True)
    channel: Mapped[int]  # position in the rule's channels
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
