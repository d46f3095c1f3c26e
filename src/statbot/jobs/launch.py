"""Starting one queued job and watching it to the end, for the local runner.

:class:`Launcher` turns a queued row into a worker process (task file, process group, pid in the
table), supervises it (protocol stream, heartbeats, timeout) and writes the row it ends in:
finished, cancelled, or requeued when the runner stops. Which rows to launch, and when, is the
runner's queue (:mod:`statbot.jobs.local`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from statbot.jobs.base import NOT_STARTED, JobInfo, JobSpec, JobStatus
from statbot.jobs.notify import JobEvents
from statbot.jobs.process import kill_group, spawn_worker, started_at
from statbot.jobs.supervise import Run, outcome, read_protocol, read_result
from statbot.jobs.table import JobRow
from statbot.jobs.table_thread import TableThread
from statbot.jobs.worker import write_json_atomic

# The runner's logger, as before these modules were split out of it (log filters keep working).
log = logging.getLogger("statbot.jobs.local")

RESUMED_MESSAGE = "Resumed after a restart"
STARTED_MESSAGE = "Started"


def workdir(root: Path, job_id: str) -> Path:
    """Where a job's task file, outputs and worker log live."""
    return root / "work" / job_id


class Launcher:
    """Launches rows and supervises their runs; ``running`` is every run not yet reaped."""

    def __init__(
        self,
        db: TableThread,
        events: JobEvents,
        wake: asyncio.Event,
        *,
        python: str,
        modules: tuple[str, ...],
        default_timeout_s: float | None,
        default_memory_mb: int | None,
        progress_interval_s: float,
    ) -> None:
        self.db = db
        self.events = events
        self.wake = wake  # set when a run ends: a slot is free
        self.python = python
        self.modules = modules
        self.default_timeout_s = default_timeout_s
        self.default_memory_mb = default_memory_mb
        self.progress_interval_s = progress_interval_s
        self.running: dict[str, Run] = {}
        # Told (kind, status, seconds from start to end) when a job that ran finishes: metrics.
        self.on_finished: Callable[[str, str, float], None] | None = None

    def memory_mb(self, spec: JobSpec) -> int | None:
        return spec.memory_mb if spec.memory_mb is not None else self.default_memory_mb

    async def launch(self, row: JobRow) -> bool:
        """Start the row's job; False if it took no slot (gone, finished, failed to start)."""
        table = self.db.table
        job_id, spec = row.info.job_id, row.info.spec
        attempt = row.info.attempts + 1
        message = f"{RESUMED_MESSAGE} (attempt {attempt})" if row.resume else STARTED_MESSAGE
        started = await self.db.run(table.mark_running, job_id, message)
        if started is None:
            return False
        folder = workdir(self.db.root, job_id)
        folder.mkdir(parents=True, exist_ok=True)
        earlier = await asyncio.to_thread(read_result, folder)
        if earlier is not None:  # an earlier run finished; a crash lost the news
            await self.finish(job_id, JobStatus.SUCCEEDED, earlier, None)
            return False
        task_file = folder / "task.json"
        task = {
            "job_id": job_id,
            "kind": spec.kind,
            "payload": spec.payload,
            "workdir": str(folder),
            "memory_mb": self.memory_mb(spec),
            "modules": list(self.modules),
            "parent_pid": os.getpid(),
            "attempt": started.info.attempts,
        }
        try:
            await asyncio.to_thread(write_json_atomic, task_file, task)
            proc = await spawn_worker(
                self.python, task_file, folder / "worker.log", self.db.database_url
            )
        except OSError as exc:
            log.error("job %s could not be started: %r", job_id, exc)
            await self.finish(job_id, JobStatus.FAILED, None, NOT_STARTED)
            return False
        await self.db.run(table.set_pid, job_id, proc.pid, started_at(proc.pid))
        run = Run(job_id, spec, started.info.attempts, proc.pid, folder, proc=proc)
        run.timeout_s = spec.timeout_s if spec.timeout_s is not None else self.default_timeout_s
        run.memory_mb = self.memory_mb(spec)
        self.running[job_id] = run
        log.info("job %s attempt %d started in pid %d", job_id, run.attempt, proc.pid)
        self.events.progress(started.info.progress_event(f"{run.attempt}.0", resumed=row.resume))
        run.task = asyncio.create_task(self._supervise(run), name=f"job-{job_id}")
        return True

    async def finish(
        self, job_id: str, status: JobStatus, result: dict[str, Any] | None, error: str | None
    ) -> None:
        row = await self.db.run(self.db.table.finish, job_id, status, result=result, error=error)
        if row is None:
            return  # cancelled meanwhile
        log.info("job %s %s%s", job_id, status.value, f": {error}" if error else "")
        info = row.info
        if self.on_finished is not None and info.started_at and info.finished_at:
            self.on_finished(info.spec.kind, info.status.value, info.finished_at - info.started_at)
        self.events.finished(row.info)

    async def cancel(self, job_id: str, *, announce: bool) -> bool:
        """Mark the job cancelled and kill its run if it has one; the caller holds the
        runner's scheduling lock, so the job cannot be launched meanwhile."""
        table = self.db.table
        run = self.running.get(job_id)
        row = await self.db.run(
            table.finish, job_id, JobStatus.CANCELLED, error="The job was cancelled."
        )
        if run is not None:
            run.cancelled = True
            kill_group(run.pid)
            if run.task is not None:
                await run.task  # returns once the process is gone and reaped
        if row is None:
            return False
        log.info("job %s cancelled", job_id)
        if announce:
            self.events.finished(row.info)
        return True

    async def stop_all(self) -> None:
        """Kill every run; each is requeued for the next start (not failed, not cancelled)."""
        for run in list(self.running.values()):
            run.stopping = True
            kill_group(run.pid)
        await asyncio.gather(*(r.task for r in self.running.values() if r.task))

    async def _supervise(self, run: Run) -> None:
        assert run.proc is not None
        try:
            try:
                async with asyncio.timeout(run.timeout_s):
                    await read_protocol(run, self.progress_interval_s, self._on_progress)
                    await run.proc.wait()
            except TimeoutError:
                run.timed_out = True
                kill_group(run.pid)
                await run.proc.wait()
            kill_group(run.pid)  # anything the job left running in its group
            if run.stopping:
                await self.db.run(self.db.table.requeue, run.job_id, crashed=False)
            elif not run.cancelled:
                await self.finish(run.job_id, *outcome(run, run.proc.returncode))
        except Exception:
            log.exception("supervising job %s failed", run.job_id)
        finally:
            self.running.pop(run.job_id, None)
            self.wake.set()

    async def _on_progress(self, run: Run) -> None:
        table = self.db.table
        await self.db.run(table.set_progress, run.job_id, run.progress, run.message)
        info = JobInfo(run.job_id, run.spec, JobStatus.RUNNING, attempts=run.attempt)
        info.progress, info.message = run.progress, run.message
        self.events.progress(info.progress_event(f"{run.attempt}.{run.seq}"))
