"""Real processes for the operations tests: a sandbox Bot API process and `statbot run`
processes pointed at it, each on 127.0.0.1 with free ports, each stopped by its PID."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ports import free_port

TOKEN = "123456:SANDBOX"


def statbot(*args: str) -> list[str]:
    return [sys.executable, "-m", "statbot", *args]


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]
    log: Path
    port: int = 0
    env: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, needle: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return
            if self.popen.poll() is not None:
                raise AssertionError(f"process exited {self.popen.returncode}:\n{self.text()}")
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} not seen within {timeout} s:\n{self.text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.popen.poll() is None:
            os.kill(self.pid, sig)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait(5)
            raise AssertionError(f"PID {self.pid} ignored signal {sig}:\n{self.text()}") from None


def start(args: list[str], log: Path, env: dict[str, str] | None = None) -> Proc:
    full_env = {**os.environ, **(env or {})}
    handle = log.open("ab")
    popen = subprocess.Popen(
        args, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=full_env
    )
    handle.close()
    return Proc(popen, log, env=env or {})


def start_sandbox(tmp: Path) -> Proc:
    port = free_port()
    proc = start(statbot("sandbox", "--port", str(port)), tmp / "sandbox.log")
    proc.port = port
    proc.wait_for("open http://", 30)
    return proc


def bot_env(api_url: str, data_dir: Path, health_port: int, **extra: str) -> dict[str, str]:
    env = {
        "STATBOT_TELEGRAM_TOKEN": TOKEN,
        "STATBOT_TELEGRAM_API_URL": api_url,
        "STATBOT_DATA_DIR": str(data_dir),
        "STATBOT_HEALTH_PORT": str(health_port),
        "STATBOT_SHUTDOWN_GRACE_SECONDS": "10",
        "STATBOT_JOB_CONCURRENCY": "1",
        "STATBOT_LOG_LEVEL": "INFO",
    }
    env.update(extra)
    return env


def start_bot(
    api_url: str,
    data_dir: Path,
    log: Path,
    health_port: int | None = None,
    *,
    ready: bool = True,
    **extra: str,
) -> Proc:
    port = health_port or free_port()
    proc = start(statbot("run"), log, bot_env(api_url, data_dir, port, **extra))
    proc.port = port
    if ready:
        proc.wait_for("statbot running", 60)
    return proc


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def status_json(port: int) -> dict[str, object]:
    code, body = http_get(port, "/status")
    assert code == 200, body
    data: dict[str, object] = json.loads(body)
    return data


def kill_quietly(*procs: Proc | None) -> None:
    for proc in procs:
        if proc is not None and proc.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.popen.wait(10)
