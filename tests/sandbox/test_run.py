"""`statbot run` without a token: the sandbox and the real bot in one process (`make run`)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.http import post_json

STATBOT = Path(sys.executable).parent / "statbot"


def test_statbot_run_without_token_chats_through_the_sandbox(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATBOT_")}
    env.update(
        STATBOT_DATA_DIR=str(tmp_path / "var"),
        STATBOT_SANDBOX_PORT="0",
        STATBOT_HEALTH_PORT="0",
        STATBOT_SESSION_STORE="memory",
    )
    errors = (tmp_path / "stderr.log").open("w")
    proc = subprocess.Popen(
        [str(STATBOT), "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=errors,  # a file, so that the bot's log can never fill a pipe and block it
        text=True,
    )
    log: list[str] = []
    try:
        assert proc.stdout is not None
        base = None
        deadline = time.monotonic() + 30
        while base is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            log.append(line)
            match = re.search(r"open (http://127\.0\.0\.1:\d+)/ to chat", line)
            base = match.group(1) if match else None
        assert base, "".join(log)
        post_json(base + "/_sandbox/messages", {"text": "/start"})
        view = post_json(base + "/_sandbox/wait", {"bot_messages": 1, "timeout": 20})
        replies = [m for m in view["messages"] if m["from_bot"]]  # type: ignore[union-attr]
        assert "statbot" in replies[0]["text"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        errors.close()
    assert proc.returncode == 0, "".join(log) + (tmp_path / "stderr.log").read_text()
