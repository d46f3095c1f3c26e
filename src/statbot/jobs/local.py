"""The local job runner: one subprocess per job, the catalog's job table, events back to the engine.

This module is the runner itself: its lifecycle, the :class:`~statbot.jobs.base.JobRunner`
contract, and the queue (which queued job gets a free slot, and the tick that retries and purges).
Starting and supervising one run is :mod:`statbot.jobs.launch`; what happens at start about a
crashed run is :mod:`statbot.jobs.recovery`; the table's thread and lock are
:mod:`statbot.jobs.table_thread`.

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
import json
import logging
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.errors import JobError
from statbot.jobs.base import Emit, JobInfo, JobRunner, JobSpec, JobStatus
from statbot.jobs.kinds import DEFAULT_MODULES, get_job, load_job_modules
from statbot.jobs.launch import RESUMED_MESSAGE, STARTED_MESSAGE, Launcher, workdir
from statbot.jobs.notify import JobEvents
from statbot.jobs.recovery import recover, redeliver
from statbot.jobs.table_thread import TableThread

if TYPE_CHECKING:
    from statbot.config import Settings

__all__ = ["PURGE_EVERY_S", "RESUMED_MESSAGE", "STARTED_MESSAGE", "LocalJobRunner"]

log = logging.getLogger(__name__)

PURGE_EVERY_S = 3600.0


class LocalJobRunner(JobRunner):
    name = "local"
    wait_poll_s = 0.02

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
        database_url: str | None = None,
    ) -> None:
        # Absolute: workers run inside their job folder, where a relative path points nowhere.
        self.root = Path(data_dir).absolute() / "jobs"
        self.emit = emit
        self.concurrency = concurrency or max(1, (os.cpu_count() or 2) - 1)
        self.per_user = per_user
        self.modules = tuple(modules)
        self.max_crashes = max_crashes
        self.retention_s = retention_s
        self.tick_s = tick_s
        self.redeliver_s = redeliver_s  # how often undelivered JOB_FINISHED events are retried
        self._purged_until = 0.0  # job workdirs finished before this are already removed
        self._next_purge = 0.0
        self._next_redeliver = 0.0
        # The catalog database holds the job table (issue 12); by default the data dir's file.
        data = Path(data_dir).absolute()
        url = database_url or f"sqlite:///{data / 'catalog.sqlite'}"
        self._db = TableThread(self.root, url, data_dir=data)
        self._sched = asyncio.Lock()
        self._wake = asyncio.Event()
        self._events = JobEvents(emit, self._mark_delivered)
        self._launcher = Launcher(
            self._db,
            self._events,
            self._wake,
            python=python,
            modules=self.modules,
            default_timeout_s=default_timeout_s,
            default_memory_mb=default_memory_mb,
            progress_interval_s=progress_interval_s,
        )
        self._loop_task: asyncio.Task[None] | None = None
        self._closing = False

    @classmethod
    def from_settings(cls, settings: Settings, *, emit: Emit, **overrides: Any) -> LocalJobRunner:
        from statbot.access.catalog import database_url

        options: dict[str, Any] = {
            "concurrency": settings.job_concurrency,
            "default_timeout_s": settings.job_timeout_seconds,
            "default_memory_mb": settings.job_memory_mb,
            "database_url": database_url(settings),
        }
        options.update(overrides)
        return cls(Path(settings.data_dir), emit=emit, **options)

    # lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._db.is_open:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self._db.lock()
        self._closing = False
        try:
            load_job_modules(self.modules)
            await self._db.open()
            await recover(self._db, self._launcher, max_crashes=self.max_crashes)
        except BaseException:
            await self._db.close()
            raise
        self._events.start()
        self._loop_task = asyncio.create_task(self._loop(), name="jobs-scheduler")
        await redeliver(self._db, self._events)
        await self._schedule()
        log.info("local job runner started: %d slots, %d per user", self.concurrency, self.per_user)

    async def stop(self) -> None:
        if not self._db.is_open:
            return
        self._closing = True  # nothing new starts from here on
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        async with self._sched:
            await self._launcher.stop_all()
        await self._events.stop()  # flush events already produced
        await self._db.close()
        log.info("local job runner stopped")

    # the contract -----------------------------------------------------------------------------
    async def submit(self, spec: JobSpec) -> JobInfo:
        table = self._db.table
        get_job(spec.kind)
        try:
            json.dumps(spec.payload, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise JobError(f"job payload is not JSON: {exc}") from exc
        row, created = await self._db.run(table.insert, spec)
        if created:
            log.info("job %s (%s) queued for user %d", row.info.job_id, spec.kind, spec.user_id)
            await self._schedule()
        return await self._info(row.info.job_id)

    async def status(self, job_id: str) -> JobInfo | None:
        row = await self._db.run(self._db.table.get, job_id)
        return row.info if row else None

    async def cancel(self, job_id: str) -> bool:
        async with self._sched:  # a job is either queued or running, never in between
            return await self._launcher.cancel(job_id, announce=True)

    async def list(self, user_id: int) -> list[JobInfo]:
        return [r.info for r in await self._db.run(self._db.table.for_user, user_id)]

    async def delete_user(self, user_id: int) -> int:
        table = self._db.table
        rows = await self._db.run(table.for_user, user_id)
        self._events.forget(r.info.job_id for r in rows)
        async with self._sched:
            for row in rows:
                await self._launcher.cancel(row.info.job_id, announce=False)
            await self._db.run(table.delete, [r.info.job_id for r in rows])
        for row in rows:
            await asyncio.to_thread(shutil.rmtree, workdir(self.root, row.info.job_id), True)
        return len(rows)

    def observe_durations(self, fn: Callable[[str, str, float], None]) -> None:
        """``fn(kind, status, seconds)`` for every job that ran and finished (for metrics)."""
        self._launcher.on_finished = fn

    async def counts(self) -> dict[str, int]:
        return await self._db.run(self._db.table.counts)

    async def purge(self, before: float) -> int:
        """Remove the working directories (outputs, charts, logs) of jobs finished before
        ``before``; the rows stay, so a late duplicate still finds its job. Returns how many."""
        ids = await self._db.run(self._db.table.finished_between, self._purged_until, before)
        for job_id in ids:
            await asyncio.to_thread(shutil.rmtree, workdir(self.root, job_id), True)
        self._purged_until = max(self._purged_until, before)
        if ids:
            log.info("removed the working directories of %d finished jobs", len(ids))
        return len(ids)

    # the queue --------------------------------------------------------------------------------
    async def _schedule(self) -> None:
        """Give free slots to queued jobs in table order, at most ``per_user`` running each."""
        table = self._db.table
        async with self._sched:
            if not self._db.is_open or self._closing:
                return
            running = self._launcher.running
            per_user = Counter(run.user_id for run in running.values())
            for row in await self._db.run(table.with_status, JobStatus.QUEUED):
                if len(running) >= self.concurrency:
                    break
                if per_user[row.info.spec.user_id] >= self.per_user:
                    continue
                if await self._launcher.launch(row):
                    per_user[row.info.spec.user_id] += 1

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
                    await redeliver(self._db, self._events)
                if self.retention_s is not None and time.monotonic() >= self._next_purge:
                    self._next_purge = time.monotonic() + PURGE_EVERY_S
                    await self.purge(time.time() - self.retention_s)
            except Exception:
                log.exception("job scheduler tick failed")

    async def _mark_delivered(self, job_id: str) -> None:
        if self._db.is_open:
            await self._db.run(self._db.table.mark_delivered, job_id)

    async def _info(self, job_id: str) -> JobInfo:
        info = await self.status(job_id)
        assert info is not None
        return info
