"""At start, ``statbot run`` and ``statbot chat`` migrate the catalog, and refuse a database a
newer statbot migrated with the sentence and exit 1, not a traceback (issue 12). Real
processes on the default catalog file in the data dir."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from tests.ops.procs import TOKEN, free_port, kill_quietly, start, statbot

from statbot.access.catalog import Catalog


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATBOT_")}
    env.update(
        {
            "STATBOT_DATA_DIR": str(data_dir),
            "STATBOT_TELEGRAM_TOKEN": TOKEN,
            # Nothing listens there: the refusal must come before the first Bot API call.
            "STATBOT_TELEGRAM_API_URL": f"http://127.0.0.1:{free_port()}",
            "STATBOT_HEALTH_PORT": str(free_port()),
        }
    )
    return env


def _statbot(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "statbot", *args],
        check=False,
        env=_env(data_dir),
        cwd=data_dir.parent,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
    )


def _future_catalog(data_dir: Path) -> Catalog:
    catalog = Catalog(f"sqlite:///{data_dir / 'catalog.sqlite'}")
    catalog.upgrade()
    with catalog.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    return catalog


def test_run_refuses_a_newer_catalog(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    catalog = _future_catalog(data_dir)
    try:
        done = _statbot(data_dir, "run")
        output = done.stdout + done.stderr
        assert done.returncode == 1, output
        assert "statbot cannot start" in output and "newer statbot" in output, output
        assert "9999_future" in output
        assert "Traceback" not in output
        assert catalog.current() == "9999_future"
    finally:
        catalog.close()


def test_chat_refuses_a_newer_catalog(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    catalog = _future_catalog(data_dir)
    try:
        done = _statbot(data_dir, "chat")
        output = done.stdout + done.stderr
        assert done.returncode == 1, output
        assert "newer statbot" in output and "9999_future" in output, output
        assert "Traceback" not in output
    finally:
        catalog.close()


def test_run_migrates_an_empty_catalog_at_start(tmp_path: Path) -> None:
    """The same start on a fresh data dir gets past the catalog: it is at head while the bot
    still waits for a Bot API that never answers; then stopped by its PID."""
    data_dir = tmp_path / "data"
    proc = start(statbot("run"), tmp_path / "run.log", _env(data_dir))
    catalog = Catalog(f"sqlite:///{data_dir / 'catalog.sqlite'}")
    try:
        deadline = time.monotonic() + 60
        while not _at_head(catalog):
            assert proc.popen.poll() is None, proc.text()
            assert time.monotonic() < deadline, proc.text()
            time.sleep(0.2)
    finally:
        catalog.close()
        kill_quietly(proc)


def _at_head(catalog: Catalog) -> bool:
    if not (Path(catalog.url.removeprefix("sqlite:///"))).exists():
        return False
    return catalog.current() == catalog.head()
