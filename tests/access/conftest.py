"""Fixtures for the access room's tests: each catalog test runs on SQLite and on PostgreSQL."""

from tests.support.catalog import catalog, catalog_url  # noqa: F401  (fixtures, used by name)
from tests.support.postgres import postgres_server, postgres_url  # noqa: F401
