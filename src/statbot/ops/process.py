"""Background process management for ``statbot start/stop/restart/status``.

``start`` launches ``statbot run`` detached, with a PID file and a log file under the data dir
(the log rotated at every start), and waits until the bot answers ``/readyz`` or exits, then
says which. ``stop`` and ``status`` find the bot whoever started it (``statbot start``, a plain
``statbot run``, systemd): by the instance lock's holder, the health server's ``/status`` pid,
or the PID file (issue 15: they used to read only the PID file and said "not running").
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
from typing import TYPE_CHECKING, Any

from statbot.ops.lock import InstanceLock

if TYPE_CHECKING:
    from statbot.config import Settings

EXIT_RUNNING = 0
EXIT_NOT_RUNNING = 3
LOG_KEEP = 3  # statbot.log.1 … .3: the logs of the three previous starts
TAIL_LINES = 20


@dataclass(frozen=True, slots=True)
class Paths:
    pid_file: Path
    log_file: Path

    @classmethod
    def under(cls, data_dir: Path) -> Paths:
        run = data_dir / "run"
        return cls(run / "statbot.pid", run / "statbot.log")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a running bot shows itself: the PID file, its instance lock (polling and sandbox
    mode; a webhook bot takes none) and its health port (0: none to ask)."""

    paths: Paths
    lock: InstanceLock | None
    health_port: int

    @classmethod
    def for_settings(cls, settings: Settings) -> Target:
        """For the settings the bot runs with: in sandbox mode, those of
        ``statbot.sandboxed.sandboxed_settings`` (the token it polls the sandbox with and locks);
        the caller passes them, since ops never imports the sandbox."""
        data_dir = Path(settings.data_dir)
        token = settings.token
        lock = None
        if token and settings.mode != "webhook":
            lock = InstanceLock.for_token(data_dir, token)
        return cls(Paths.under(data_dir), lock, settings.health_port)


@dataclass(frozen=True, slots=True)
class Found:
    pid: int
    via: str  # "instance lock", "health server" or "PID file"


@dataclass(frozen=True, slots=True)
class Started:
    """What ``start`` saw: ``ready`` (``/readyz`` 200), ``exited`` (``exit_code``, log tail in
    ``detail``), ``not ready`` (still running at the timeout; ``detail`` names the failing
    checks) or ``already running``."""

    state: str
    pid: int
    exit_code: int | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "ready"


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


def find_bot(target: Target) -> Found | None:
    """The running bot's PID and how it was found; None when nothing shows a live bot.

    The lock and the health server are the bot's own word and come first; the PID file only
    knows what ``statbot start`` launched and is the one sign of a bot still starting up.
    """
    if target.lock is not None:
        pid = target.lock.live_holder()
        if pid is not None and pid != os.getpid():
            return Found(pid, "instance lock")
    live = fetch_status(target.health_port) if target.health_port else None
    pid = live.get("pid") if live else None
    if isinstance(pid, int) and pid_alive(pid):
        return Found(pid, "health server")
    pid = read_pid(target.paths)
    return Found(pid, "PID file") if pid is not None else None


def rotate_logs(log_file: Path, keep: int = LOG_KEEP) -> None:
    """statbot.log → .1 → .2 … → .``keep`` (the oldest dropped): each start writes a fresh log,
    so the tail ``start`` shows after a failure is that start's own."""
    if not log_file.exists() or log_file.stat().st_size == 0:
        return
    for n in range(keep, 0, -1):
        newer = log_file if n == 1 else log_file.with_name(f"{log_file.name}.{n - 1}")
        if newer.exists():
            os.replace(newer, log_file.with_name(f"{log_file.name}.{n}"))


def log_tail(log_file: Path, lines: int = TAIL_LINES) -> str:
    try:
        with open(log_file, "rb") as fh:
            fh.seek(max(0, fh.seek(0, os.SEEK_END) - 64 * 1024))
            text = fh.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def start(target: Target, timeout: float = 60.0, env: dict[str, str] | None = None) -> Started:
    """Start ``statbot run`` detached and wait up to ``timeout`` s until it is ready or exits."""
    running = find_bot(target)
    if running is not None:
        return Started("already running", running.pid, detail=f"found by its {running.via}")
    paths = target.paths
    paths.pid_file.parent.mkdir(parents=True, exist_ok=True)
    rotate_logs(paths.log_file)
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
    deadline = time.monotonic() + timeout
    failing = "no answer from the health server"
    while True:
        code = proc.poll()
        if code is not None:
            paths.pid_file.unlink(missing_ok=True)
            return Started("exited", proc.pid, code, log_tail(paths.log_file))
        ready, failing = _readiness(target.health_port, proc.pid, paths.log_file, failing)
        if ready:
            return Started("ready", proc.pid)
        if time.monotonic() >= deadline:
            return Started("not ready", proc.pid, detail=failing)
        time.sleep(0.2)


def _readiness(port: int, pid: int, log_file: Path, failing: str) -> tuple[bool, str]:
    """Is the bot ``pid`` ready? A health server of another process on the port is not it
    (that one would make ours fail to bind): ``/status`` must name ``pid`` first."""
    if port == 0:  # the bot binds a random port nobody can guess: its log line must do
        return "statbot running in" in log_tail(log_file, 200), failing
    status = fetch_status(port, timeout=1.0)
    if status is None or status.get("pid") != pid:
        return False, failing
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as resp:
            return resp.status == 200, failing
    except urllib.error.HTTPError as exc:  # 503 names the failing checks
        try:
            names = json.loads(exc.read()).get("failing", [])
        except ValueError:
            names = []
        return False, "failing checks: " + (", ".join(map(str, names)) or "?")
    except OSError:
        return False, failing


def stop(target: Target, timeout: float = 30.0) -> tuple[bool, str]:
    """SIGTERM the bot wherever it was found and wait. Returns (stopped, message)."""
    found = find_bot(target)
    if found is None:
        return True, "statbot is not running"
    pid = found.pid
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass  # it ended between finding and signalling it
    except PermissionError:
        return False, (
            f"statbot (PID {pid}, found by its {found.via}) runs as another user and cannot be "
            "signalled from here; under systemd use `systemctl stop statbot`"
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            if read_pid(target.paths) is None:  # it named this PID, or a dead one
                target.paths.pid_file.unlink(missing_ok=True)
            return True, f"statbot (PID {pid}, found by its {found.via}) stopped"
        time.sleep(0.1)
    return False, f"statbot (PID {pid}) did not stop within {timeout:g} s"


def fetch_status(port: int, timeout: float = 2.0) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=timeout) as resp:
            data: dict[str, Any] = json.loads(resp.read())
            return data
    except (urllib.error.URLError, OSError, ValueError):
        return None
