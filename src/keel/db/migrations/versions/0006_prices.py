"""Gateway price table: micro-dollars per million tokens per model.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from keel.db.base import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_prices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("input_micros_per_mtok", sa.BigInteger(), nullable=False),
        sa.Column("output_micros_per_mtok", sa.BigInteger(), nullable=False),
        sa.Column("cached_input_micros_per_mtok", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_gateway_prices_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_prices")),
        sa.UniqueConstraint("project_id", "model", name="uq_gateway_prices_project_model"),
    )
    with op.batch_alter_table("gateway_prices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gateway_prices_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gateway_prices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_prices_project_id"))

    op.drop_table("gateway_prices")
