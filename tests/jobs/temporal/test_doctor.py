"""`statbot doctor` with STATBOT_JOBS=temporal checks the server (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from statbot.cli import app


def test_doctor_reaches_the_temporal_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, temporal_server, queue
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STATBOT_SESSION_STORE", "sqlite")
    monkeypatch.setenv("STATBOT_JOBS", "temporal")
    monkeypatch.setenv("STATBOT_TEMPORAL_ADDRESS", temporal_server.address)
    monkeypatch.setenv("STATBOT_TEMPORAL_TASK_QUEUE", queue)
    result = CliRunner().invoke(app, ["doctor"])
    assert f"[ok] temporal at {temporal_server.address}" in result.output
    assert f"task queue {queue}: 0 job workflow(s)" in result.output
    assert result.exit_code == 0, result.output
