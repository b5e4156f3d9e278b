"""Spans, per-trace rollups and per-project trace retention.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from keel.db.base import JSONType

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spans",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("parent_span_id", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("span_type", sa.String(length=32), nullable=True),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("service_name", sa.String(length=200), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column("operation", sa.String(length=50), nullable=True),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("total_tokens", sa.Integer(), nullable=True),
        sa.Column("cached_tokens", sa.Integer(), nullable=True),
        sa.Column("reasoning_tokens", sa.Integer(), nullable=True),
        sa.Column("cost_micros", sa.BigInteger(), nullable=True),
        sa.Column("ttft_ms", sa.Double(), nullable=True),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("session_id", sa.String(length=200), nullable=True),
        sa.Column("tags", sa.String(length=1000), nullable=True),
        sa.Column("prompt_version", sa.String(length=200), nullable=True),
        sa.Column("route", sa.String(length=200), nullable=True),
        sa.Column("variant", sa.String(length=100), nullable=True),
        sa.Column("attributes", JSONType, nullable=False),
        sa.Column("events", JSONType, nullable=True),
        sa.Column("resource", JSONType, nullable=True),
        sa.Column("ingested_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_spans_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_spans")),
    )
    with op.batch_alter_table("spans", schema=None) as batch_op:
        batch_op.create_index("uq_spans_identity", ["project_id", "trace_id", "span_id"], unique=True)

    op.create_table(
        "trace_retention",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_trace_retention_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_trace_retention")),
    )
    op.create_table(
        "traces",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("service_name", sa.String(length=200), nullable=True),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("span_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("llm_calls", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("total_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("session_id", sa.String(length=200), nullable=True),
        sa.Column("tags", sa.String(length=1000), nullable=True),
        sa.Column("prompt_version", sa.String(length=200), nullable=True),
        sa.Column("route", sa.String(length=200), nullable=True),
        sa.Column("variant", sa.String(length=100), nullable=True),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("has_root", sa.Boolean(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_traces_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("project_id", "trace_id", name=op.f("pk_traces")),
    )
    with op.batch_alter_table("traces", schema=None) as batch_op:
        batch_op.create_index("ix_traces_project_session", ["project_id", "session_id"], unique=False)
        batch_op.create_index("ix_traces_project_start", ["project_id", "start_ns", "trace_id"], unique=False)
        batch_op.create_index("ix_traces_project_updated", ["project_id", "updated_ns"], unique=False)
        batch_op.create_index("ix_traces_project_user", ["project_id", "user_id"], unique=False)
        batch_op.create_index(
            "ix_traces_project_cost", ["project_id", "cost_micros", "trace_id"], unique=False
        )
        batch_op.create_index(
            "ix_traces_project_duration", ["project_id", "duration_ms", "trace_id"], unique=False
        )
        batch_op.create_index(
            "ix_traces_project_tokens", ["project_id", "total_tokens", "trace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("traces", schema=None) as batch_op:
        batch_op.drop_index("ix_traces_project_tokens")
        batch_op.drop_index("ix_traces_project_duration")
        batch_op.drop_index("ix_traces_project_cost")
        batch_op.drop_index("ix_traces_project_user")
        batch_op.drop_index("ix_traces_project_updated")
        batch_op.drop_index("ix_traces_project_start")
        batch_op.drop_index("ix_traces_project_session")

    op.drop_table("traces")
    op.drop_table("trace_retention")
    with op.batch_alter_table("spans", schema=None) as batch_op:
        batch_op.drop_index("uq_spans_identity")

    op.drop_table("spans")
