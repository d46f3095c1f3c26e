"""The engine's public surface: ``__all__`` imports, dataset size limit."""

from __future__ import annotations

import importlib

import pytest

import statbot.engine as engine
from statbot.engine import DatasetTooLargeError, ensure_dataset_size
from statbot.errors import SessionError


def test_all_names_import():
    assert len(set(engine.__all__)) == len(engine.__all__)
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
    fresh = importlib.import_module("statbot.engine.manager")
    assert fresh.StateManager is engine.StateManager


def test_dataset_size_limit(tmp_path):
    small = tmp_path / "small.csv"
    small.write_bytes(b"x" * 1000)
    assert ensure_dataset_size(small, max_mb=0.001) == 1000
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(DatasetTooLargeError) as caught:
        ensure_dataset_size(big, max_mb=0.001)
    assert isinstance(caught.value, SessionError)
    assert "more than the 0.001 MB" in caught.value.user_message
    assert caught.value.size_bytes == 2000
