"""broadcasts: an idempotency key and the admin's conversation (issue 12)

Revision ID: 0002_broadcast_key
Revises: 0001
Create Date: 2026-12-02

``key`` is derived from the event that confirmed the broadcast, so an event replayed after a
crash between the catalog write and the session commit finds its broadcast instead of creating
a second one (unique). ``reply_to`` is the admin's conversation key: where the final counts go.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_broadcast_key"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("key", sa.String(length=160), nullable=True))
        batch.add_column(sa.Column("reply_to", sa.String(length=160), nullable=True))
    op.create_index("uq_broadcasts_key", "broadcasts", ["key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_broadcasts_key", table_name="broadcasts")
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("reply_to")
        batch.drop_column("key")
