"""Running ``statbot doctor`` in-process and reading its lines (tests/cli, tests/jobs/temporal)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from statbot.cli import app


def doctor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> tuple[int, str]:
    """Exit code and output of ``statbot doctor`` with ``STATBOT_<NAME>=value`` for each of
    ``env``, a data dir under ``tmp_path`` and no stray .env / statbot.toml."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATBOT_DATA_DIR", str(tmp_path / "data"))
    for name, value in env.items():
        monkeypatch.setenv(f"STATBOT_{name.upper()}", value)
    result = CliRunner().invoke(app, ["doctor"])
    return result.exit_code, result.output


def line(output: str, what: str) -> str:
    """The one line of the check named ``what``."""
    found = [ln for ln in output.splitlines() if ln.split("] ", 1)[-1].startswith(f"{what}:")]
    assert len(found) == 1, output
    return found[0]
