"""Experiments and their per-item results (unique per experiment and item).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from keel.db.base import JSONType, UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_version", sa.Integer(), nullable=False),
        sa.Column("split", sa.String(length=32), nullable=True),
        sa.Column("task", JSONType, nullable=False),
        sa.Column("evaluators", JSONType, nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("summary", JSONType, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_experiments_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_experiments_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
    )
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_experiments_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_experiments_project_id"), ["project_id"], unique=False)

    op.create_table(
        "experiment_results",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("experiment_id", sa.String(length=32), nullable=False),
        sa.Column("item_key", sa.String(length=32), nullable=False),
        sa.Column("input", JSONType, nullable=False),
        sa.Column("expected", JSONType, nullable=True),
        sa.Column("output", JSONType, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("scores", JSONType, nullable=False),
        sa.Column("score_errors", JSONType, nullable=False),
        sa.Column("reasons", JSONType, nullable=False),
        sa.Column("trace_id", sa.String(length=64), nullable=True),
        sa.Column("latency_ms", sa.Double(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_experiment_results_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_results")),
        sa.UniqueConstraint("experiment_id", "item_key", name="uq_experiment_results_item"),
    )
    with op.batch_alter_table("experiment_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_experiment_results_experiment_id"), ["experiment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("experiment_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiment_results_experiment_id"))

    op.drop_table("experiment_results")
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiments_project_id"))
        batch_op.drop_index(batch_op.f("ix_experiments_dataset_id"))

    op.drop_table("experiments")
