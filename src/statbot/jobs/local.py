"""The local job runner: one subprocess per job, a SQLite job table, events back to the engine.

Durability (issue #4): the table says what is queued, running and finished. A job found
``running`` when the runner starts was interrupted by a crash: its stale process (if any) is
killed and it is run again — jobs are idempotent, same key → same outputs — and its first
progress event says it resumed. A clean :meth:`stop` kills running workers and requeues their
jobs for the next start. ``JOB_FINISHED`` is marked delivered only after ``emit`` accepted it,
so a crash in between re-emits it with the same event id and the engine dedupes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from statbot.errors import JobError
from statbot.jobs.base import Emit, JobInfo, JobRunner, JobSpec, JobStatus
from statbot.jobs.outbox import JobEvents
from statbot.jobs.process import kill_group, kill_stale, spawn_worker, started_at
from statbot.jobs.registry import DEFAULT_MODULES, get_job, load_job_modules
from statbot.jobs.supervise import Run, outcome, read_protocol, read_result
from statbot.jobs.table import JobRow, JobTable
from statbot.jobs.worker import RESULT_FILE, write_json_atomic

if TYPE_CHECKING:
    from statbot.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

RESUMED_MESSAGE = "Resumed after a restart"
STARTED_MESSAGE = "Started"
PURGE_EVERY_S = 3600.0


class LocalJobRunner(JobRunner):
    name = "local"

    def __init__(
        self,
        data_dir: Path,
        *,
        emit: Emit,
        concurrency: int | None = None,
        per_user: int = 1,
        default_timeout_s: float | None = 1800.0,
        default_memory_mb: int | None = 4096,
        modules: Sequence[str] = DEFAULT_MODULES,
        progress_interval_s: float = 2.0,
        max_crashes: int = 3,
        retention_s: float | None = 7 * 86400.0,
        tick_s: float = 5.0,
        redeliver_s: float = 30.0,
        python: str = sys.executable,
    ) -> None:
        # Absolute: workers run inside their job folder, where a relative path points nowhere.
        self.root = Path(data_dir).absolute() / "jobs"
        self.emit = emit
        self.concurrency = concurrency or max(1, (os.cpu_count() or 2) - 1)
        self.per_user = per_user
        self.default_timeout_s = default_timeout_s
        self.default_memory_mb = default_memory_mb
        self.modules = tuple(modules)
        self.progress_interval_s = progress_interval_s
        self.max_crashes = max_crashes
        self.retention_s = retention_s
        self.tick_s = tick_s
        self.redeliver_s = redeliver_s  # how often undelivered JOB_FINISHED events are retried
        self._purged_until = 0.0  # job workdirs finished before this are already removed
        self._next_purge = 0.0
        self._next_redeliver = 0.0
        self.python = python
        self._table: JobTable | None = None
        self._db_thread: ThreadPoolExecutor | None = None
        self._lock_file: IO[bytes] | None = None
        self._running: dict[str, Run] = {}
        self._sched = asyncio.Lock()
        self._wake = asyncio.Event()
        self._events = JobEvents(emit, self._mark_delivered)
        self._loop_task: asyncio.Task[None] | None = None
        self._closing = False

    @classmethod
    def from_settings(cls, settings: Settings, *, emit: Emit, **overrides: Any) -> LocalJobRunner:
        options: dict[str, Any] = {
            "concurrency": settings.job_concurrency,
            "default_timeout_s": settings.job_timeout_seconds,
            "default_memory_mb": settings.job_memory_mb,
        }
        options.update(overrides)
        return cls(Path(settings.data_dir), emit=emit, **options)

    # lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._table is not None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_file = _lock(self.root / "runner.lock")
        self._closing = False
        try:
            load_job_modules(self.modules)
            self._db_thread = ThreadPoolExecutor(1, thread_name_prefix="statbot-jobs-db")
            self._table = await self._db(JobTable, self.root / "jobs.sqlite3")
            await self._recover()
        except BaseException:
            await self._release()
            raise
        self._events.start()
        self._loop_task = asyncio.create_task(self._loop(), name="jobs-scheduler")
        await self._redeliver()
        await self._schedule()
        log.info("local job runner started: %d slots, %d per user", self.concurrency, self.per_user)

    async def stop(self) -> None:
        if self._table is None:
            return
        self._closing = True  # nothing new starts from here on
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        async with self._sched:
            for run in list(self._running.values()):
                run.stopping = True
                kill_group(run.pid)
            await asyncio.gather(*(r.task for r in self._running.values() if r.task))
        await self._events.stop()  # flush events already produced
        await self._release()
        log.info("local job runner stopped")

    async def _release(self) -> None:
        if self._table is not None:
            await self._db(self._table.close)
            self._table = None
        if self._db_thread is not None:
            self._db_thread.shutdown(wait=True)
            self._db_thread = None
        if self._lock_file is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None

    # the contract -----------------------------------------------------------------------------
    async def submit(self, spec: JobSpec) -> JobInfo:
        table = self._need_table()
        get_job(spec.kind)
        try:
            json.dumps(spec.payload, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise JobError(f"job payload is not JSON: {exc}") from exc
        row, created = await self._db(table.insert, spec)
        if created:
            log.info("job %s (%s) queued for user %d", row.info.job_id, spec.kind, spec.user_id)
            await self._schedule()
        return await self._info(row.info.job_id)

    async def status(self, job_id: str) -> JobInfo | None:
        row = await self._db(self._need_table().get, job_id)
        return row.info if row else None

    async def cancel(self, job_id: str) -> bool:
        async with self._sched:  # a job is either queued or in _running, never in between
            return await self._cancel(job_id, announce=True)

    async def list(self, user_id: int) -> list[JobInfo]:
        return [r.info for r in await self._db(self._need_table().for_user, user_id)]

    async def delete_user(self, user_id: int) -> int:
        table = self._need_table()
        rows = await self._db(table.for_user, user_id)
        self._events.forget(r.info.job_id for r in rows)
        async with self._sched:
            for row in rows:
                await self._cancel(row.info.job_id, announce=False)
            await self._db(table.delete, [r.info.job_id for r in rows])
        for row in rows:
            await asyncio.to_thread(shutil.rmtree, self._workdir(row.info.job_id), True)
        return len(rows)

    async def counts(self) -> dict[str, int]:
        return await self._db(self._need_table().counts)

    async def purge(self, before: float) -> int:
        """Remove the working directories (outputs, charts, logs) of jobs finished before
        ``before``; the rows stay, so a late duplicate still finds its job. Returns how many."""
        ids = await self._db(self._need_table().finished_between, self._purged_until, before)
        for job_id in ids:
            await asyncio.to_thread(shutil.rmtree, self._workdir(job_id), True)
        self._purged_until = max(self._purged_until, before)
        if ids:
            log.info("removed the working directories of %d finished jobs", len(ids))
        return len(ids)

    async def wait(self, job_id: str) -> JobInfo:
        """Until the job has finished (tests, CLI); bound it with ``asyncio.timeout``."""
        while True:
            info = await self.status(job_id)
            if info is None:
                raise JobError(f"unknown job {job_id}")
            if info.finished:
                return info
            await asyncio.sleep(0.02)

    # scheduling -------------------------------------------------------------------------------
    async def _schedule(self) -> None:
        table = self._need_table()
        async with self._sched:
            if self._table is None or self._closing:
                return
            per_user = Counter(run.user_id for run in self._running.values())
            for row in await self._db(table.with_status, JobStatus.QUEUED):
                if len(self._running) >= self.concurrency:
                    break
                if per_user[row.info.spec.user_id] >= self.per_user:
                    continue
                if await self._launch(row):
                    per_user[row.info.spec.user_id] += 1

    async def _launch(self, row: JobRow) -> bool:
        table = self._need_table()
        job_id, spec = row.info.job_id, row.info.spec
        attempt = row.info.attempts + 1
        message = f"{RESUMED_MESSAGE} (attempt {attempt})" if row.resume else STARTED_MESSAGE
        started = await self._db(table.mark_running, job_id, message)
        if started is None:
            return False
        workdir = self._workdir(job_id)
        workdir.mkdir(parents=True, exist_ok=True)
        earlier = await asyncio.to_thread(read_result, workdir)
        if earlier is not None:  # an earlier run finished; a crash lost the news
            await self._finish(job_id, JobStatus.SUCCEEDED, earlier, None)
            return False
        task_file = workdir / "task.json"
        task = {
            "job_id": job_id,
            "kind": spec.kind,
            "payload": spec.payload,
            "workdir": str(workdir),
            "memory_mb": self._memory_mb(spec),
            "modules": list(self.modules),
            "parent_pid": os.getpid(),
            "attempt": started.info.attempts,
        }
        try:
            await asyncio.to_thread(write_json_atomic, task_file, task)
            proc = await spawn_worker(self.python, task_file, workdir / "worker.log")
        except OSError as exc:
            log.error("job %s could not be started: %r", job_id, exc)
            await self._finish(job_id, JobStatus.FAILED, None, "The job could not be started.")
            return False
        await self._db(table.set_pid, job_id, proc.pid, started_at(proc.pid))
        run = Run(job_id, spec, started.info.attempts, proc.pid, workdir, proc=proc)
        run.timeout_s = spec.timeout_s if spec.timeout_s is not None else self.default_timeout_s
        run.memory_mb = self._memory_mb(spec)
        self._running[job_id] = run
        log.info("job %s attempt %d started in pid %d", job_id, run.attempt, proc.pid)
        self._events.progress(started.info.progress_event(f"{run.attempt}.0", resumed=row.resume))
        run.task = asyncio.create_task(self._supervise(run), name=f"job-{job_id}")
        return True

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
                await self._db(self._need_table().requeue, run.job_id, crashed=False)
            elif not run.cancelled:
                await self._finish(run.job_id, *outcome(run, run.proc.returncode))
        except Exception:
            log.exception("supervising job %s failed", run.job_id)
        finally:
            self._running.pop(run.job_id, None)
            self._wake.set()

    async def _on_progress(self, run: Run) -> None:
        table = self._need_table()
        await self._db(table.set_progress, run.job_id, run.progress, run.message)
        info = JobInfo(run.job_id, run.spec, JobStatus.RUNNING, attempts=run.attempt)
        info.progress, info.message = run.progress, run.message
        self._events.progress(info.progress_event(f"{run.attempt}.{run.seq}"))

    async def _finish(
        self, job_id: str, status: JobStatus, result: dict[str, Any] | None, error: str | None
    ) -> None:
        row = await self._db(self._need_table().finish, job_id, status, result=result, error=error)
        if row is None:
            return  # cancelled meanwhile
        log.info("job %s %s%s", job_id, status.value, f": {error}" if error else "")
        self._events.finished(row.info)

    async def _cancel(self, job_id: str, *, announce: bool) -> bool:
        table = self._need_table()
        run = self._running.get(job_id)
        row = await self._db(
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
            self._events.finished(row.info)
        return True

    # recovery and delivery --------------------------------------------------------------------
    async def _recover(self) -> None:
        table = self._need_table()
        for row in await self._db(table.with_status, JobStatus.RUNNING):
            job_id = row.info.job_id
            if row.pid is not None:
                await asyncio.to_thread(kill_stale, row.pid, row.pid_started)
            await self._db(table.requeue, job_id, crashed=True)
            if (
                row.crashes + 1 >= self.max_crashes
                and not (self._workdir(job_id) / RESULT_FILE).exists()
            ):
                error = (
                    f"The job was interrupted {row.crashes + 1} times and was not retried again."
                )
                await self._finish(job_id, JobStatus.FAILED, None, error)
            else:
                log.warning("job %s was running when the runner died; it will resume", job_id)

    async def _redeliver(self) -> None:
        for row in await self._db(self._need_table().undelivered):
            self._events.finished(row.info)

    async def _mark_delivered(self, job_id: str) -> None:
        if self._table is not None:
            await self._db(self._table.mark_delivered, job_id)

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick_s):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self._schedule()
                if time.monotonic() >= self._next_redeliver:
                    self._next_redeliver = time.monotonic() + self.redeliver_s
                    await self._redeliver()
                if self.retention_s is not None and time.monotonic() >= self._next_purge:
                    self._next_purge = time.monotonic() + PURGE_EVERY_S
                    await self.purge(time.time() - self.retention_s)
            except Exception:
                log.exception("job scheduler tick failed")

    # helpers ----------------------------------------------------------------------------------
    async def _info(self, job_id: str) -> JobInfo:
        info = await self.status(job_id)
        assert info is not None
        return info

    def _workdir(self, job_id: str) -> Path:
        return self.root / "work" / job_id

    def _memory_mb(self, spec: JobSpec) -> int | None:
        return spec.memory_mb if spec.memory_mb is not None else self.default_memory_mb

    def _need_table(self) -> JobTable:
        if self._table is None:
            raise JobError("the job runner is not started")
        return self._table

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db_thread, lambda: fn(*args, **kwargs))


def _lock(path: Path) -> IO[bytes]:
    """One runner per job table: an flock the OS releases if this process dies."""
    handle = open(path, "wb")  # noqa: SIM115 - held until stop
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise JobError(f"another job runner is using {path.parent}") from None
    return handle
