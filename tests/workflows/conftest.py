"""Shared data and a chat for the workflow conversation tests (ChatDriver on the real engine)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.support.catalog import catalog_url  # noqa: F401  (fixtures, used by name)
from tests.support.iris import iris_csv, iris_frame  # noqa: F401
from tests.support.postgres import postgres_server, postgres_url  # noqa: F401

from statbot.testing import ChatDriver


@pytest.fixture
def diabetes_csv(tmp_path: Path) -> Path:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).frame.head(120)
    path = tmp_path / "diabetes.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[ChatDriver]:
    async with ChatDriver(tmp_path / "var") as driver:
        yield driver
