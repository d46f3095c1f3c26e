"""The engine's public surface: ``__all__`` imports."""

from __future__ import annotations

import importlib

import statbot.engine as engine


def test_all_names_import():
    assert len(set(engine.__all__)) == len(engine.__all__)
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
    fresh = importlib.import_module("statbot.engine.manager")
    assert fresh.StateManager is engine.StateManager
