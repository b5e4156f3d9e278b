"""Guardrail policies, and the policy a route applies.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from keel.db.base import JSONType, UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guardrail_policies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rules", JSONType, nullable=False),
        sa.Column("refusal", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_guardrail_policies_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardrail_policies")),
        sa.UniqueConstraint("project_id", "name", name="uq_guardrail_policies_project_name"),
    )
    op.create_index(
        op.f("ix_guardrail_policies_project_id"), "guardrail_policies", ["project_id"], unique=False
    )
    with op.batch_alter_table("gateway_routes") as batch:
        batch.add_column(sa.Column("guardrails", sa.String(length=100), nullable=True))
        batch.create_foreign_key(
            "fk_gateway_routes_guardrails",
            "guardrail_policies",
            ["project_id", "guardrails"],
            ["project_id", "name"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("gateway_routes") as batch:
        batch.drop_constraint("fk_gateway_routes_guardrails", type_="foreignkey")
        batch.drop_column("guardrails")
    op.drop_index(op.f("ix_guardrail_policies_project_id"), table_name="guardrail_policies")
    op.drop_table("guardrail_policies")
