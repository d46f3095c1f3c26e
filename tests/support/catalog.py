"""A migrated catalog database for tests (issue 12): always created by migrating, as in
production, never by ``create_all``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from statbot.access.catalog import Catalog


def migrated_catalog(url: str) -> Catalog:
    catalog = Catalog(url)
    catalog.upgrade()
    return catalog


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    """A fresh SQLite catalog file at head."""
    opened = migrated_catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    try:
        yield opened
    finally:
        opened.close()
