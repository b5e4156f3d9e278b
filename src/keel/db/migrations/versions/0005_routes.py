"""Gateway routes: public model names mapped to weighted targets and fallbacks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from keel.db.base import JSONType, UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_routes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("targets", JSONType, nullable=False),
        sa.Column("fallbacks", JSONType, nullable=False),
        sa.Column("sticky", sa.String(length=16), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_gateway_routes_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_routes")),
        sa.UniqueConstraint("project_id", "name", name="uq_gateway_routes_project_name"),
    )
    with op.batch_alter_table("gateway_routes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gateway_routes_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gateway_routes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_routes_project_id"))

    op.drop_table("gateway_routes")
