"""``statbot run`` the way a newcomer runs it: no token, no STATBOT_* setting but the ports
(and whatever a test names), relative defaults resolved against the folder it starts in.

The folder stands in for the repository root: a test must not share the checkout's own ``var/``
with a developer's ``make run``, and what matters — the default data dir is the relative
``var``, resolved against the working directory — is the same in both.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.ops.procs import free_port, http_get

PAGE_LINE = re.compile(r"statbot sandbox: open (http://127\.0\.0\.1:(\d+)/)")


def newcomer_env(**settings: str) -> dict[str, str]:
    """The environment without any STATBOT_* variable of ours, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATBOT_")}
    env.update(settings)
    return env


@dataclass
class FirstRun:
    """One ``statbot run`` process in ``root``; its output in ``root/run-<n>.log``."""

    root: Path
    sandbox_port: int
    health_port: int
    extra: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    runs: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def data_dir(self) -> Path:
        return self.root / "var"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""

    def start(self, timeout: float = 60.0) -> str:
        """Start and wait for the page line; returns the whole output up to it."""
        self.runs += 1
        self.log = self.root / f"run-{self.runs}.log"
        env = newcomer_env(
            STATBOT_SANDBOX_PORT=str(self.sandbox_port),
            STATBOT_HEALTH_PORT=str(self.health_port),
            **self.extra,
        )
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "statbot", "run"],
                cwd=self.root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.output()
            if PAGE_LINE.search(text):
                return text
            if self.popen.poll() is not None:
                raise AssertionError(f"statbot run exited {self.popen.returncode}:\n{text}")
            time.sleep(0.05)
        raise AssertionError(f"no page address within {timeout} s:\n{self.output()[-3000:]}")

    def ready(self) -> bool:
        try:
            return http_get(self.health_port, "/readyz")[0] == 200
        except OSError:  # not listening yet
            return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40.0) -> int:
        """Signal the process (by its PID) and wait for its exit code."""
        assert self.popen is not None
        if self.popen.poll() is None:
            os.kill(self.popen.pid, sig)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)
            raise AssertionError(f"statbot ignored signal {sig}:\n{self.output()}") from None


@contextlib.contextmanager
def first_run(root: Path, **extra: str) -> Iterator[FirstRun]:
    """A started ``statbot run`` in ``root`` with free ports; killed (by PID) if still running."""
    run = FirstRun(root, free_port(), free_port(), extra)
    run.start()
    try:
        yield run
    finally:
        if run.popen is not None and run.popen.poll() is None:
            os.kill(run.popen.pid, signal.SIGKILL)
            run.popen.wait(10)
