"""The bot's side of a running job: its heartbeats become ``JOB_PROGRESS`` events, its outcome
one ``JOB_FINISHED``, through :class:`~statbot.jobs.notify.JobEvents` (in order, the finished
event at least once).

One task a job polls the workflow (``describe``: the pending activity's attempt and last
heartbeat; then the held outcome, by query). Event ids follow the contract in
:mod:`statbot.jobs.base` and come from Temporal's own numbers — the attempt, and the count of
progress reports the activity put in its heartbeat — so a bot that restarts, or a second bot
watching the same job, produces the same ids and the engine drops the repeats. Once the engine
accepted ``JOB_FINISHED``, the runner signals the workflow, which closes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from statbot.jobs.base import JobInfo, JobStatus
from statbot.jobs.launch import RESUMED_MESSAGE, STARTED_MESSAGE
from statbot.jobs.notify import JobEvents
from statbot.jobs.temporal.state import (
    Beat,
    beat_of,
    closed_outcome,
    finished,
    held_outcome,
    spec_of,
)

log = logging.getLogger(__name__)

Observe = Callable[[str, str, float], None]


@dataclass(slots=True)
class _Seen:
    attempt: int = 0
    n: int = 0
    announced: bool = False


class Watcher:
    """Follows jobs until their workflow closes (or is deleted)."""

    def __init__(self, client: Client, events: JobEvents, *, poll_s: float) -> None:
        self.client = client
        self.events = events
        self.poll_s = poll_s
        self.delivered: set[str] = set()  # JOB_FINISHED accepted by the engine
        self.on_finished: Observe | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}

    @property
    def watching(self) -> set[str]:
        return {job_id for job_id, task in self._tasks.items() if not task.done()}

    def watch(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is None or task.done():
            self._tasks[job_id] = asyncio.create_task(self._follow(job_id), name=f"watch-{job_id}")

    async def forget(self, job_ids: Iterable[str]) -> None:
        """Stop following these jobs and emit nothing more of them (``/forget``)."""
        ids = list(job_ids)
        self.events.forget(ids)
        tasks = [t for t in (self._tasks.pop(i, None) for i in ids) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        await self.forget(list(self._tasks))

    async def _follow(self, job_id: str) -> None:
        handle = self.client.get_workflow_handle(job_id)
        seen = _Seen()
        while True:
            try:
                if await self._step(job_id, handle, seen):
                    return
            except RPCError as exc:
                if exc.status is RPCStatusCode.NOT_FOUND:
                    return  # deleted (/forget)
                log.warning("watching job %s: %s", job_id, exc)
            except Exception:  # keep watching: a bad tick must not lose the job's end
                log.exception("watching job %s failed", job_id)
            await asyncio.sleep(self.poll_s)

    async def _step(self, job_id: str, handle: WorkflowHandle[Any, Any], seen: _Seen) -> bool:
        """One look at the job; True once there is nothing more to follow."""
        desc = await handle.describe()
        spec = await spec_of(desc)
        info = JobInfo(job_id, spec, JobStatus.RUNNING)
        if desc.status is not WorkflowExecutionStatus.RUNNING:
            if not seen.announced and job_id not in self.delivered:
                # It closed while nobody here saw its outcome (another bot took it): say it
                # anyway; the engine drops a repeat.
                done = await closed_outcome(handle, desc.status or WorkflowExecutionStatus.FAILED)
                self.events.finished(finished(info, done, desc))
            self.delivered.discard(job_id)
            return True
        beat = await beat_of(self.client, desc)
        if beat is not None:
            self._progress(info, beat, seen)
            return False
        if job_id in self.delivered:
            return False  # the workflow closes soon
        held = await held_outcome(handle)
        if held is not None:
            done_info = finished(info, held, desc)
            if not seen.announced and self.on_finished is not None and desc.start_time:
                seconds = time.time() - desc.start_time.timestamp()
                self.on_finished(spec.kind, done_info.status.value, seconds)
            seen.announced = True
            self.events.finished(done_info)  # a no-op while the last one is on its way
        return False

    def _progress(self, info: JobInfo, beat: Beat, seen: _Seen) -> None:
        if not beat.started:
            return
        info.attempts = beat.attempt
        if beat.attempt != seen.attempt:
            seen.attempt, seen.n = beat.attempt, 0
            resumed = beat.attempt > 1
            info.message = (
                f"{RESUMED_MESSAGE} (attempt {beat.attempt})" if resumed else STARTED_MESSAGE
            )
            info.progress = beat.progress
            self.events.progress(info.progress_event(f"{beat.attempt}.0", resumed=resumed))
        if beat.n > seen.n:
            seen.n = beat.n
            info.progress, info.message = beat.progress, beat.message
            self.events.progress(info.progress_event(f"{beat.attempt}.{beat.n}"))
