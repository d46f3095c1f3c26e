"""Alembic's entry point for statbot's catalog. Run through :class:`statbot.access.catalog.Catalog`
(or ``statbot db ...``), which hands over an open connection; there is no alembic.ini."""

from __future__ import annotations

from alembic import context

from statbot.access.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - statbot always passes a connection
    raise RuntimeError("run migrations through statbot's Catalog (statbot db upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
