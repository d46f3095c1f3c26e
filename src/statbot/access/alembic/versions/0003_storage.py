"""storage: the job table and the datasets' and models' indexes move onto the catalog (issue 12)

Revision ID: 0003_storage
Revises: 0002_broadcast_key
Create Date: 2026-12-02

Until now the jobs lived in their own SQLite file, ``<data_dir>/jobs/jobs.sqlite3``, each
stored dataset had a JSON sidecar next to its Parquet file, and the models were found by listing
their card files. This revision makes the tables; what an existing data dir holds is imported
once, after the upgrade, by :mod:`statbot.access.legacy` (a file is renamed only once its rows
are committed here). Downgrading drops the tables, and with them the job history and the
indexes (the Parquet, skops and card files stay): take a backup first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_storage"
down_revision = "0002_broadcast_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("crashes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("progress", sa.Double(), nullable=False, server_default="0"),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=True),
        sa.Column("finished_at", sa.Double(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("pid_started", sa.Double(), nullable=True),
        sa.Column("resume", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("delivered", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("seq", name="pk_jobs"),
        sa.UniqueConstraint("job_id", name="uq_jobs_job_id"),
    )
    # The queue in order, and a user's jobs in order (as the old file had them).
    op.create_index("ix_jobs_status", "jobs", ["status", "seq"])
    op.create_index("ix_jobs_user", "jobs", ["user_id", "seq"])
    op.create_table(
        "datasets",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("columns", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.String(length=32), nullable=False),
        sa.Column("schema", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "digest", name="pk_datasets"),
    )
    op.create_table(
        "models",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "model_id", name="pk_models"),
    )


def downgrade() -> None:
    op.drop_table("models")
    op.drop_table("datasets")
    op.drop_table("jobs")
