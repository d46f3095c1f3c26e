"""Background process management for ``statbot start/stop/restart/status``.

``start`` launches ``statbot run`` detached, with a PID file and a log file under the data dir;
``stop`` sends SIGTERM and waits (the bot drains in-flight work and exits 0), then reports;
``status`` reads the PID file, the health server's ``/status`` and the instance lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXIT_RUNNING = 0
EXIT_NOT_RUNNING = 3


@dataclass(frozen=True, slots=True)
class Paths:
    pid_file: Path
    log_file: Path

    @classmethod
    def under(cls, data_dir: Path) -> Paths:
        run = data_dir / "run"
        return cls(run / "statbot.pid", run / "statbot.log")


def read_pid(paths: Paths) -> int | None:
    try:
        pid = int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is not running.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def start_background(paths: Paths, env: dict[str, str] | None = None) -> int:
    """Start ``statbot run`` detached; returns its PID. Refuses when one is running."""
    running = read_pid(paths)
    if running is not None:
        raise RuntimeError(f"statbot is already running (PID {running})")
    paths.pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(paths.log_file, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "statbot", "run"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    paths.pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def stop(paths: Paths, timeout: float = 30.0) -> tuple[bool, str]:
    """SIGTERM and wait. Returns (stopped, message)."""
    pid = read_pid(paths)
    if pid is None:
        return True, "statbot is not running"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            paths.pid_file.unlink(missing_ok=True)
            return True, f"statbot (PID {pid}) stopped"
        time.sleep(0.1)
    return False, f"statbot (PID {pid}) did not stop within {timeout:g} s"


def fetch_status(port: int, timeout: float = 2.0) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=timeout) as resp:
            data: dict[str, Any] = json.loads(resp.read())
            return data
    except (urllib.error.URLError, OSError, ValueError):
        return None
