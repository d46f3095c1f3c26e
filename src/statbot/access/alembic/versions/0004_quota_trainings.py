"""quota: training charges, one row per training job (issue 12)

Revision ID: 0004_quota
Revises: 0003_storage
Create Date: 2026-12-02

A training is counted against its user's day (``usage``) or paid with a credit (``ledger``)
once per job id: the primary key here is what makes a replayed start charge once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_quota"
down_revision = "0003_storage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_charges",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("returned_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("job_id", name="pk_training_charges"),
    )
    op.create_index("ix_training_charges_user", "training_charges", ["user_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_training_charges_user", table_name="training_charges")
    op.drop_table("training_charges")
