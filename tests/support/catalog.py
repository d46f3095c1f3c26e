"""A migrated catalog database for tests (issue 12): always created by migrating, as in
production, never by ``create_all``. ``catalog_url`` and ``catalog`` run each test that uses them
twice: on a SQLite file and on a real PostgreSQL server (tests/support/postgres.py); the
PostgreSQL runs carry the ``postgres`` marker (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from statbot.access.catalog import Catalog

BACKENDS = ("sqlite", "postgres")


def migrated_catalog(url: str) -> Catalog:
    catalog = Catalog(url)
    catalog.upgrade()
    return catalog


@pytest.fixture(params=BACKENDS)
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database's URL: a new SQLite file, or a new database on the test server."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'catalog.sqlite'}"


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    """A fresh catalog at head, on each backend."""
    opened = migrated_catalog(catalog_url)
    try:
        yield opened
    finally:
        opened.close()
