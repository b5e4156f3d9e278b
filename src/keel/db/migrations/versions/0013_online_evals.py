"""Online evaluation rules.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from keel.db.base import JSONType, UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "online_eval_rules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("filter", JSONType, nullable=False),
        sa.Column("sample_rate", sa.Double(), nullable=False),
        sa.Column("evaluators", JSONType, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("cursor_ns", sa.BigInteger(), nullable=False),
        sa.Column("evaluated", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_online_eval_rules_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_eval_rules")),
        sa.UniqueConstraint("project_id", "name", name="uq_online_eval_rules_project_name"),
    )
    with op.batch_alter_table("online_eval_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_online_eval_rules_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("online_eval_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_online_eval_rules_project_id"))

    op.drop_table("online_eval_rules")
