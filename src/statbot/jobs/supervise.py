"""One running job as the parent sees it: its protocol stream, heartbeats, and how it ended."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statbot.jobs.base import JobSpec, JobStatus
from statbot.jobs.worker import RESULT_FILE

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Run:
    job_id: str
    spec: JobSpec
    attempt: int
    pid: int
    workdir: Path
    proc: asyncio.subprocess.Process | None = None
    task: asyncio.Task[None] | None = None
    timeout_s: float | None = None
    memory_mb: int | None = None
    progress: float = 0.0
    message: str = ""
    seq: int = 0  # progress events emitted in this attempt (after the start event, seq 0)
    last_emit: float = 0.0
    error: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False
    stopping: bool = False
    timed_out: bool = False

    @property
    def user_id(self) -> int:
        return self.spec.user_id


async def read_protocol(
    run: Run, interval_s: float, on_progress: Callable[[Run], Awaitable[None]]
) -> None:
    """Read the worker's JSON lines until EOF. Heartbeats are throttled to one per
    ``interval_s``; the latest one is still sent when the job goes quiet (trailing edge)."""
    assert run.proc is not None and run.proc.stdout is not None
    stream = run.proc.stdout
    pending = False
    while True:
        wait = max(0.0, run.last_emit + interval_s - time.monotonic()) if pending else None
        try:
            async with asyncio.timeout(wait):
                line = await stream.readline()
        except TimeoutError:
            await _flush(run, on_progress)
            pending = False
            continue
        if not line:
            break
        try:
            message = json.loads(line)
        except ValueError:
            log.warning("job %s: unreadable protocol line %r", run.job_id, line[:200])
            continue
        if message.get("t") == "progress":
            run.progress = min(1.0, max(0.0, float(message.get("p", 0.0))))
            run.message = str(message.get("m", ""))
            pending = True
            if time.monotonic() - run.last_emit >= interval_s:
                await _flush(run, on_progress)
                pending = False
        elif message.get("t") == "error":
            run.error = message
    if pending:
        await _flush(run, on_progress)


async def _flush(run: Run, on_progress: Callable[[Run], Awaitable[None]]) -> None:
    run.seq += 1
    run.last_emit = time.monotonic()
    await on_progress(run)


def read_result(workdir: Path) -> dict[str, Any] | None:
    """The result a finished run left behind, or None."""
    path = workdir / RESULT_FILE
    with contextlib.suppress(FileNotFoundError, ValueError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    return None


def outcome(
    run: Run, returncode: int | None
) -> tuple[JobStatus, dict[str, Any] | None, str | None]:
    """(status, result, user-facing error) of a worker that has exited."""
    if returncode == 0 or run.timed_out:
        result = read_result(run.workdir)
        if result is not None:  # complete: written whole, by rename, before any exit trouble
            return JobStatus.SUCCEEDED, result, None
    if run.timed_out:
        return (
            JobStatus.FAILED,
            None,
            f"The job took longer than {run.timeout_s:g} s and was stopped.",
        )
    code = run.error.get("code")
    if code == "memory":
        return (
            JobStatus.FAILED,
            None,
            f"The job needed more than {run.memory_mb} MB of memory and was stopped.",
        )
    if code == "user":
        return JobStatus.FAILED, None, str(run.error.get("message") or "The job failed.")
    if code == "crash":
        return JobStatus.FAILED, None, f"The job failed: {run.error.get('message', '')}"
    if returncode == 0:
        return JobStatus.FAILED, None, "The job ended without a result."
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        hint = (
            f"; it may have needed more than {run.memory_mb} MB of memory" if run.memory_mb else ""
        )
        return JobStatus.FAILED, None, f"The job stopped unexpectedly ({name}){hint}."
    return JobStatus.FAILED, None, f"The job stopped unexpectedly (exit code {returncode})."
