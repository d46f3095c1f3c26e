"""Log formats (issue 15): ``text`` as before, ``json`` one object per line; both redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from statbot.config import load_settings
from statbot.errors import ConfigError
from statbot.logs import setup_logging

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def stderr() -> Iterator[io.StringIO]:
    """Where setup_logging's handler writes; the root logger is put back afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield io.StringIO()
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def emit_a_bit_of_everything() -> None:
    log = logging.getLogger("statbot.test")
    log.info("polling with %s", TOKEN)
    log.debug("GET https://api.telegram.org/bot%s/getMe", TOKEN)
    log.warning("plain line — with a dash and ünïcode")
    try:
        raise RuntimeError(f"request to /file/bot{TOKEN}/doc.csv failed")
    except RuntimeError:
        log.exception("download failed")


def test_json_lines_parse_and_carry_the_fields(stderr: io.StringIO) -> None:
    setup_logging("DEBUG", (TOKEN,), "json", stream=stderr)
    emit_a_bit_of_everything()
    lines = stderr.getvalue().splitlines()
    assert len(lines) >= 4
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(e, dict) for e in entries)
    ours = [e for e in entries if e["logger"] == "statbot.test"]
    assert [e["level"] for e in ours] == ["INFO", "DEBUG", "WARNING", "ERROR"]
    assert all({"time", "level", "logger", "message"} <= e.keys() for e in ours)
    assert ours[0]["time"].endswith("+00:00") and "T" in ours[0]["time"]
    assert ours[0]["message"] == "polling with ***"
    assert ours[1]["message"] == "GET https://api.telegram.org/bot***/getMe"
    assert ours[2]["message"] == "plain line — with a dash and ünïcode"
    assert "exception" not in ours[0]
    assert ours[3]["message"] == "download failed"
    assert "Traceback (most recent call last)" in ours[3]["exception"]
    assert "/file/bot***/doc.csv" in ours[3]["exception"]
    assert stderr.getvalue().isascii()  # writable to any stderr encoding


def test_the_token_never_reaches_a_json_line(stderr: io.StringIO) -> None:
    setup_logging("DEBUG", (TOKEN,), "json", stream=stderr)
    emit_a_bit_of_everything()
    logging.getLogger("statbot.test").info("stack", stack_info=True, extra={"x": TOKEN})
    out = stderr.getvalue()
    assert TOKEN not in out and TOKEN.split(":")[1] not in out
    assert out.count("***") == 3  # redacted where it was, not dropped
    last = json.loads(out.splitlines()[-1])
    assert "stack" in last and "x" not in last  # extra attributes are not written out


def test_text_format_is_unchanged_and_redacted(stderr: io.StringIO) -> None:
    setup_logging("INFO", (TOKEN,), stream=stderr)
    emit_a_bit_of_everything()
    out = stderr.getvalue()
    first = out.splitlines()[0]
    assert first.endswith(" INFO statbot.test: polling with ***")
    assert "DEBUG" not in out  # level honoured
    assert "Traceback (most recent call last)" in out and TOKEN not in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(first)


def test_setting_up_again_replaces_the_handler(stderr: io.StringIO) -> None:
    setup_logging("INFO", (), "text", stream=stderr)
    setup_logging("INFO", (), "json", stream=stderr)
    logging.getLogger("statbot.test").info("once")
    [line] = stderr.getvalue().splitlines()
    assert json.loads(line)["message"] == "once"


def test_log_format_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings().log_format == "text"
    monkeypatch.setenv("STATBOT_LOG_FORMAT", "JSON")
    assert load_settings().log_format == "json"
    monkeypatch.setenv("STATBOT_LOG_FORMAT", "yaml")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "STATBOT_LOG_FORMAT" in str(info.value)


def test_statbot_chat_logs_json_when_asked(
    stderr: io.StringIO,  # puts the root logger back
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The wiring: `statbot chat --verbose` with STATBOT_LOG_FORMAT=json logs JSON lines, among
    them the transition of the /describe it was sent."""
    from typer.testing import CliRunner

    from statbot.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATBOT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("STATBOT_LOG_FORMAT", "json")
    result = CliRunner().invoke(app, ["chat", "--verbose"], input="/describe\n")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]
    assert any(
        e["logger"] == "statbot.engine.transitions"
        and e["message"].endswith("describe: (start) -> file (event u1)")
        for e in entries
    ), lines
