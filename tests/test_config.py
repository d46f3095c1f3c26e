from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from statbot.config import load_settings
from statbot.errors import ConfigError
from statbot.logs import RedactingFilter


def test_env_overrides_and_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATBOT_LOCAL_PATH_ROOTS", f"/srv/a{os.pathsep}/srv/b")
    monkeypatch.setenv("STATBOT_ALLOWED_USERS", "1, 2,3")
    monkeypatch.setenv("STATBOT_SESSION_STORE", "redis://127.0.0.1:6379/0")
    s = load_settings()
    assert s.local_path_roots == (Path("/srv/a"), Path("/srv/b"))
    assert s.allowed_users == (1, 2, 3)
    assert s.session_store.startswith("redis://")
    assert s.mode == "sandbox"


def test_invalid_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATBOT_HEALTH_PORT", "not-a-port")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "STATBOT_HEALTH_PORT"


def test_toml_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "statbot.toml").write_text('health_port = 1234\nlog_level = "DEBUG"\n')
    monkeypatch.setenv("STATBOT_LOG_LEVEL", "ERROR")
    s = load_settings()
    assert s.health_port == 1234
    assert s.log_level == "ERROR"


def test_settings_are_frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    with pytest.raises(Exception, match="frozen"):
        s.health_port = 1  # type: ignore[misc]


def test_token_is_redacted_from_log_records() -> None:
    token = "123456:ABCdef_ghiJKL"
    f = RedactingFilter((token,))
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "calling %s", (f"/bot{token}/getMe",), None
    )
    f.filter(record)
    assert token not in record.getMessage()
    other = logging.LogRecord("x", logging.INFO, __file__, 1, "url /bot999:zzz/getMe", None, None)
    f.filter(other)
    assert "999:zzz" not in other.getMessage()


def test_relative_paths_are_absolute_at_load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 9: the default data dir ``var`` reached job workers (run in their own folder) as a
    relative path; every path setting is absolute once loaded, against the cwd of the load."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATBOT_LOCAL_PATH_ROOTS", f"data{os.pathsep}~/shared")
    s = load_settings()
    assert s.data_dir == tmp_path / "var" and s.data_dir.is_absolute()
    assert s.sqlite_path == tmp_path / "var" / "statbot.sqlite3"
    assert s.local_path_roots == (tmp_path / "data", Path.home() / "shared")
    monkeypatch.chdir("/")
    assert s.data_dir == tmp_path / "var"  # resolved once, not on every use
    assert load_settings(data_dir="rel").data_dir == Path("/rel")
