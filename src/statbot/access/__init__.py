"""Accounts and access (issue 12): the catalog database (SQLAlchemy models, Alembic migrations),
users and roles, the command registry, quotas and rate limits, the audit log and the Stars ledger.

May import the engine's vocabulary, ``config`` and ``errors``; the engine, analysis, channels and
the sandbox never import it (workflows and the wiring do).
"""
