"""Providers (where models live, with encrypted credentials) and routes (public model names → targets).

A provider's secret is stored only as a Fernet token (`api_key_encrypted`); the API reports whether one is
set, never its value.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keel.core.clock import utcnow
from keel.db.base import Base


class Provider(Base):
    __tablename__ = "providers"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_providers_project_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(50))
    base_url: Mapped[str | None] = mapped_column(String(500))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    options: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Route(Base):
    """A public model name. `targets` split traffic by weight (canaries, A/B); `fallbacks` are tried in order
    when a target fails with 429, 5xx, a timeout or a connection error."""

    __tablename__ = "gateway_routes"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="uq_gateway_routes_project_name"),
        ForeignKeyConstraint(  # a policy in use cannot be deleted
            ["project_id", "guardrails"],
            ["guardrail_policies.project_id", "guardrail_policies.name"],
            name="fk_gateway_routes_guardrails",
            ondelete="RESTRICT",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    targets: Mapped[dict[str, Any]]
    fallbacks: Mapped[dict[str, Any]]
    sticky: Mapped[str] = mapped_column(String(16), default="none")
    retries: Mapped[int] = mapped_column(default=1)
    cache_ttl_s: Mapped[int | None] = mapped_column(default=None)
    circuit: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    guardrails: Mapped[str | None] = mapped_column(String(100), default=None)  # a policy's name
    canary: Mapped[dict[str, Any] | None] = mapped_column(default=None)  # see gateway.canary_service
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Price(Base):
    """What a model costs, in integer micro-dollars per million tokens (so $0.15/M is 150000)."""

    __tablename__ = "gateway_prices"
    __table_args__ = (UniqueConstraint("project_id", "model", name="uq_gateway_prices_project_model"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(200))
    input_micros_per_mtok: Mapped[int] = mapped_column(BigInteger)
    output_micros_per_mtok: Mapped[int] = mapped_column(BigInteger)
    cached_input_micros_per_mtok: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Limit(Base):
    """Budgets (micro-dollars per UTC day/month) and rate limits for a whole project (`scope="project"`) or
    for one API key (`scope=<key id>`)."""

    __tablename__ = "gateway_limits"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    usd_micros_per_day: Mapped[int | None] = mapped_column(BigInteger)
    usd_micros_per_month: Mapped[int | None] = mapped_column(BigInteger)
    requests_per_minute: Mapped[int | None]
    tokens_per_minute: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Spend(Base):
    """Money reserved by calls in flight and spent by finished calls, per scope and period (`d:2026-11-23`,
    `m:2026-11`). Reservations are conditional UPDATEs, so concurrent calls cannot overspend a budget."""

    __tablename__ = "gateway_spend"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    reserved_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    spent_micros: Mapped[int] = mapped_column(BigInteger, default=0)
