"""Starting and killing job worker processes (one process group each)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import IO

import psutil

import statbot

log = logging.getLogger(__name__)

# Where a job finds the catalog database (the training job records the model it saved there).
CATALOG_URL_ENV = "STATBOT_JOB_CATALOG_URL"
STREAM_LIMIT = 1 << 20  # longest protocol line we accept from a worker
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Where ``statbot`` is imported from, so the worker finds the same code even when uninstalled.
_SRC = str(Path(statbot.__file__).resolve().parents[1])


async def spawn_worker(
    python: str, task_file: Path, log_file: Path, catalog_url: str | None = None
) -> asyncio.subprocess.Process:
    """Start ``python -m statbot.jobs.worker task_file`` as the leader of a new session, so that
    cancel and timeouts can SIGKILL the job together with anything it started. ``catalog_url``
    (the runner's catalog database) reaches the job in its environment, never in task.json: the
    URL may carry a password, and the job's folder is only a data dir's folder."""
    env = dict(os.environ)
    if catalog_url is not None:
        env[CATALOG_URL_ENV] = catalog_url
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_SRC, env.get("PYTHONPATH", "")) if p)
    for name in _THREAD_VARS:
        # Jobs run side by side up to the concurrency cap (cores - 1): one BLAS/OpenMP thread
        # each avoids oversubscription, and per-thread BLAS buffers would eat the RLIMIT_AS budget.
        env.setdefault(name, "1")
    with _append(log_file) as stderr:
        return await asyncio.create_subprocess_exec(
            python,
            "-P",  # no cwd on sys.path: files in the job's folder never shadow a module
            "-m",
            "statbot.jobs.worker",
            str(task_file),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            cwd=str(task_file.parent),
            env=env,
            start_new_session=True,
            limit=STREAM_LIMIT,
        )


def _append(path: Path) -> IO[bytes]:
    return open(path, "ab")


def started_at(pid: int) -> float | None:
    """The process's start time (identifies it across pid reuse), or None if it is gone (a
    zombie is gone: it runs nothing and only waits for its new parent to reap it)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return float(process.create_time())
    except psutil.Error:
        return None


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (a worker and every process it started)."""
    if sys.platform == "win32":  # pragma: no cover - statbot's local runner is POSIX-only
        raise OSError("process groups need POSIX")
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def kill_stale(pid: int, pid_started: float | None, timeout: float = 5.0) -> bool:
    """Kill a worker left behind by a runner that crashed, if that pid is still the same process
    (same start time). Returns True when something was killed."""
    if pid_started is None:
        return False
    now_started = started_at(pid)
    if now_started is None or abs(now_started - pid_started) > 0.01:
        return False
    log.warning("killing worker pid %d left behind by a previous runner", pid)
    kill_group(pid)
    deadline = time.monotonic() + timeout
    while started_at(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    return True
