"""Canary releases: the live state on the route, the judge's decisions, and rejected model versions.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from keel.db.base import JSONType, UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("gateway_routes", sa.Column("canary", JSONType, nullable=True))
    op.add_column(
        "model_versions", sa.Column("status", sa.String(length=16), nullable=False, server_default="ready")
    )
    op.add_column("model_versions", sa.Column("status_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("model_versions") as batch:
        batch.alter_column("status", server_default=None)
    op.create_table(
        "canary_decisions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("canary_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("metrics", JSONType, nullable=False),
        sa.Column("traces", JSONType, nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("notified", sa.Text(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_canary_decisions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canary_decisions")),
    )
    op.create_index(op.f("ix_canary_decisions_canary_id"), "canary_decisions", ["canary_id"], unique=False)
    op.create_index(
        "ix_canary_decisions_project_route", "canary_decisions", ["project_id", "route", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("canary_decisions")
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("status_reason")
        batch.drop_column("status")
    with op.batch_alter_table("gateway_routes") as batch:
        batch.drop_column("canary")
