"""Restarts of real processes: `statbot run` keeps the sandbox's chats and page address in the
data dir; `statbot sandbox --state-dir` survives even a SIGKILL (issue 9, 2a)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.http import post_json

STATBOT = Path(sys.executable).parent / "statbot"


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=20) as response:
        body: dict[str, Any] = json.load(response)
        return body


@contextmanager
def statbot(
    args: list[str], tmp_path: Path, pattern: str
) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    """Run ``statbot <args>`` until the block ends (SIGTERM); yields the page's base URL (the
    first match of ``pattern`` on stdout), the stderr log file and the process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATBOT_")}
    env.update(
        STATBOT_DATA_DIR=str(tmp_path / "var"),
        STATBOT_SANDBOX_PORT="0",
        STATBOT_HEALTH_PORT="0",
        STATBOT_SESSION_STORE="memory",
    )
    stderr = tmp_path / f"stderr-{time.monotonic_ns()}.log"
    with stderr.open("w") as errors:
        proc = subprocess.Popen(
            [str(STATBOT), *args],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,  # a file: the bot's log can never fill a pipe and block it
            text=True,
        )
        try:
            assert proc.stdout is not None
            lines: list[str] = []
            base = None
            deadline = time.monotonic() + 30
            while base is None and time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                lines.append(line)
                match = re.search(pattern, line)
                base = match.group(1) if match else None
            assert base, "".join(lines) + stderr.read_text()
            yield base, stderr, proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
    assert proc.returncode in (0, -signal.SIGKILL), stderr.read_text()


def test_statbot_run_keeps_chats_update_ids_and_address(tmp_path: Path) -> None:
    run_url = r"open (http://127\.0\.0\.1:\d+)/ to chat"
    with statbot(["run"], tmp_path, run_url) as (base, _log, _proc):
        first = post_json(base + "/_sandbox/messages", {"text": "/start"})
        post_json(base + "/_sandbox/wait", {"bot_messages": 1, "timeout": 20})
    state_dir = tmp_path / "var" / "sandbox"
    assert (state_dir / "state.json").exists() and (state_dir / "files").is_dir()

    with statbot(["run"], tmp_path, run_url) as (again, _log, _proc):
        assert again == base  # the same page address: an open page reconnects
        before = _get(again + "/_sandbox/chats/default")["messages"]
        assert [m["text"] for m in before if not m["from_bot"]] == ["/start"]
        assert "statbot" in next(m["text"] for m in before if m["from_bot"])
        second = post_json(again + "/_sandbox/messages", {"text": "/start"})
        assert second["update_id"] == first["update_id"] + 1
        view = post_json(
            again + "/_sandbox/wait",
            {"bot_messages": 1, "after_message_id": second["message_id"], "timeout": 20},
        )
        # The bot answered the returning user: the update was not dropped as a duplicate.
        assert len([m for m in view["messages"] if m["from_bot"]]) >= 2

    port = int(base.rsplit(":", 1)[1])
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # despite TIME_WAIT
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with statbot(["run"], tmp_path, run_url) as (moved, log, _proc):
            assert moved != base
            assert _get(moved + "/_sandbox/chats/default")["messages"][0]["text"] == "/start"
        warning = next(line for line in log.read_text().splitlines() if "page moved" in line)
    assert "WARNING" in warning and base in warning and moved in warning


def test_statbot_sandbox_state_dir_survives_sigkill(tmp_path: Path) -> None:
    state_dir = tmp_path / "kept"
    args = ["sandbox", "--port", "0", "--state-dir", str(state_dir)]
    with statbot(args, tmp_path, r"open (http://127\.0\.0\.1:\d+)/") as (base, _log, proc):
        sent = post_json(base + "/_sandbox/messages", {"text": "before the crash"})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "before the crash" not in (
            (state_dir / "state.json").read_text() if (state_dir / "state.json").exists() else ""
        ):
            time.sleep(0.05)
        proc.kill()  # no clean shutdown: only the debounced saves count
        proc.wait(timeout=10)
    with statbot(args, tmp_path, r"open (http://127\.0\.0\.1:\d+)/") as (base, _log, _proc):
        messages = _get(base + "/_sandbox/chats/default")["messages"]
        assert [m["text"] for m in messages] == ["before the crash"]
        after = post_json(base + "/_sandbox/messages", {"text": "after"})
        assert after["update_id"] == sent["update_id"] + 1
