"""Guardrail policies: named per project, attached to routes, an `input` and an `output` list of rules."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keel.core.clock import utcnow
from keel.db.base import Base


class GuardrailPolicy(Base):
    __tablename__ = "guardrail_policies"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_guardrail_policies_project_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[dict[str, Any]]  # {"input": [{check, action, params}], "output": [...]}
    refusal: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
