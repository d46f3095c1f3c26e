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


def test_quotas_and_rate_limit_from_env_and_toml(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 12: each quota per role, the roles not named keep their defaults."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "statbot.toml").write_text(
        "[quota_trainings_per_day]\nanalyst = 5\nviewer = 1\n"
        "[quota_rows_per_dataset]\nadmin = 2000\n"
    )
    monkeypatch.setenv("STATBOT_QUOTA_STORAGE_MB", "analyst=250, admin=unlimited")
    monkeypatch.setenv("STATBOT_QUOTA_ROWS_PER_DATASET", '{"viewer": 10}')  # env wins, JSON too
    monkeypatch.setenv("STATBOT_RATE_LIMIT_PER_MINUTE", "12")
    monkeypatch.setenv("STATBOT_RATE_LIMIT_BURST", "4")
    s = load_settings()
    inf = float("inf")
    assert s.quota_storage_mb == {"owner": inf, "admin": inf, "analyst": 250, "viewer": 100}
    assert s.quota_trainings_per_day == {"owner": inf, "admin": 100, "analyst": 5, "viewer": 1}
    assert s.quota_rows_per_dataset["viewer"] == 10 and s.quota_rows_per_dataset["admin"] == inf
    assert (s.rate_limit_per_minute, s.rate_limit_burst) == (12, 4)


@pytest.mark.parametrize(
    ("value", "problem"),
    [("boss=1", "unknown role(s) boss"), ("analyst=-1", "0 or more"), ("analyst", "role=value")],
)
def test_a_bad_quota_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, problem: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATBOT_QUOTA_STORAGE_MB", value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "STATBOT_QUOTA_STORAGE_MB" and problem in str(info.value)


def test_the_temporal_deployment_goes_into_workflow_ids_so_it_is_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 14: unset, the task queue scopes the ids; set, only what a workflow id and a
    visibility query can carry unquoted."""
    monkeypatch.chdir(tmp_path)
    assert load_settings().temporal_deployment is None
    monkeypatch.setenv("STATBOT_TEMPORAL_DEPLOYMENT", "prod-eu.1")
    assert load_settings().temporal_deployment == "prod-eu.1"
    monkeypatch.setenv("STATBOT_TEMPORAL_DEPLOYMENT", "prod' OR 1=1")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "STATBOT_TEMPORAL_DEPLOYMENT"
