"""`statbot chat` in a pseudo-terminal, for the tests that type as a person would: the real CLI,
engine, SQLite store and workflows in a child process; the test reads what the terminal shows."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect

STATBOT = Path(sys.executable).with_name("statbot")
PROMPT = "> "


def spawn(tmp_path: Path, **env: str) -> pexpect.spawn:
    """``statbot chat`` on ``tmp_path/var`` (sessions in SQLite, no token), past its greeting;
    ``env`` adds settings. The terminal's whole output is echoed, so pytest shows the session
    on a failure."""
    environ = dict(os.environ)
    environ.update(
        {
            "STATBOT_DATA_DIR": str(tmp_path / "var"),
            "STATBOT_SESSION_STORE": "sqlite",
            "STATBOT_TELEGRAM_TOKEN": "",
            "TERM": "dumb",
            **env,
        }
    )
    child = pexpect.spawn(
        str(STATBOT),
        ["chat", "--out", str(tmp_path / "out")],
        cwd=str(tmp_path),
        env=environ,
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 200),
    )
    child.logfile_read = sys.stdout
    child.expect_exact("/quit (or Ctrl-D) leaves.")
    child.expect_exact(PROMPT)
    return child


def say(child: pexpect.spawn, line: str, *expected: str) -> None:
    """Type a line; the bot must show each expected text, in order, then prompt again."""
    child.sendline(line)
    for text in expected:
        child.expect_exact(text)
    child.expect_exact(PROMPT)
