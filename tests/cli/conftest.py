"""Fixtures for the CLI's tests: the catalog commands run on SQLite and on PostgreSQL."""

from tests.support.catalog import catalog_url  # noqa: F401  (fixtures, used by name)
from tests.support.postgres import postgres_server, postgres_url  # noqa: F401
