"""Closed loops and their runs.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from keel.db.base import JSONType, UTCDateTime

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loops",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("spec", JSONType, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", UTCDateTime(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_loops_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loops")),
        sa.UniqueConstraint("project_id", "name", name="uq_loops_project_name"),
    )
    op.create_index(op.f("ix_loops_project_id"), "loops", ["project_id"], unique=False)
    op.create_table(
        "loop_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("loop_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("dataset", sa.String(length=200), nullable=False),
        sa.Column("dataset_version", sa.Integer(), nullable=True),
        sa.Column("finetune_run_id", sa.String(length=32), nullable=True),
        sa.Column("model_version", sa.String(length=300), nullable=True),
        sa.Column("experiments", JSONType, nullable=False),
        sa.Column("route", sa.String(length=200), nullable=True),
        sa.Column("canary_id", sa.String(length=32), nullable=True),
        sa.Column("log", JSONType, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["loop_id"], ["loops.id"], name=op.f("fk_loop_runs_loop_id_loops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_loop_runs_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_runs")),
    )
    op.create_index("ix_loop_runs_loop_number", "loop_runs", ["loop_id", "number"], unique=True)
    op.create_index(op.f("ix_loop_runs_project_id"), "loop_runs", ["project_id"], unique=False)


def downgrade() -> None:
    op.drop_table("loop_runs")
    op.drop_table("loops")
