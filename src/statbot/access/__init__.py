"""Accounts and access (issue 12): the catalog database (SQLAlchemy models, Alembic migrations),
users and roles, the command registry, quotas and rate limits, the audit log and the Stars ledger,
and the catalog's side of what statbot stores (the job table, the datasets' and models' index,
the import of an older data dir's files).

May import the engine's vocabulary, analysis' model card, ``config`` and ``errors``; the engine,
analysis, channels and the sandbox never import it (workflows, jobs and the wiring do).
"""
