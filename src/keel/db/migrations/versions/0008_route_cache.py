"""Gateway routes may cache responses for `cache_ttl_s` seconds.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gateway_routes") as batch_op:
        batch_op.add_column(sa.Column("cache_ttl_s", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gateway_routes") as batch_op:
        batch_op.drop_column("cache_ttl_s")
