"""Fixtures for the access room's tests."""

from tests.support.catalog import catalog  # noqa: F401  (a fixture, used by name)
