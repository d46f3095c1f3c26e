"""Ordered delivery of a runner's job events to the engine (``emit``).

One consumer task keeps a job's events in the order they were produced (start, heartbeats,
finished). ``JOB_FINISHED`` is at-least-once: it is marked delivered (``on_delivered``) only
after ``emit`` returned; a failure leaves it undelivered for :meth:`JobEvents.finished` to be
called again by the runner's retry tick or next start, and the engine dedupes by event id.
Heartbeats are best effort: a lost one is superseded by the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from statbot.engine.events import Event, EventKind
from statbot.jobs.base import Emit, JobInfo, JobStatus
from statbot.jobs.kinds import job_label

log = logging.getLogger(__name__)


def outcome_text(info: JobInfo) -> str:
    """The sentence a user sees about a job that ended while they were doing something else."""
    label = job_label(info.spec.kind)
    if info.status is JobStatus.SUCCEEDED:
        summary = (info.result or {}).get("summary")
        return str(summary) if summary else f"Your {label} has finished."
    if info.status is JobStatus.FAILED:
        return f"{label[:1].upper()}{label[1:]} failed. {info.error or ''}".strip()
    return ""  # cancelled: the user asked for it and was told then


class JobEvents:
    def __init__(self, emit: Emit, on_delivered: Callable[[str], Awaitable[None]]) -> None:
        self._emit = emit
        self._on_delivered = on_delivered
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._in_flight: set[str] = set()  # jobs whose JOB_FINISHED is queued, not yet emitted
        self._forgotten: set[str] = set()  # jobs deleted meanwhile: emit nothing more of them
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._consume(), name="jobs-events")

    async def stop(self, flush_s: float = 5.0) -> None:
        """Deliver what is queued (up to ``flush_s``), then stop."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(flush_s):
                await self._queue.join()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    def progress(self, event: Event) -> None:
        self._queue.put_nowait(event)

    def finished(self, info: JobInfo) -> None:
        """Queue ``info``'s JOB_FINISHED unless it is already on its way."""
        if info.job_id in self._in_flight:
            return
        self._in_flight.add(info.job_id)
        self._queue.put_nowait(info.finished_event(outcome_text(info)))

    def forget(self, job_ids: Iterable[str]) -> None:
        self._forgotten.update(job_ids)

    async def _consume(self) -> None:
        while True:
            event = await self._queue.get()
            job_id = str((event.job or {}).get("job_id", ""))
            try:
                if job_id not in self._forgotten:
                    await self._emit(event)
                    if event.kind is EventKind.JOB_FINISHED:
                        await self._on_delivered(job_id)
            except Exception as exc:  # e.g. the engine is stopping; finished events come again
                log.warning("emitting %s failed: %r", event.event_id, exc)
            finally:
                if event.kind is EventKind.JOB_FINISHED:
                    self._in_flight.discard(job_id)
                self._queue.task_done()
                if self._queue.empty():
                    self._forgotten.clear()  # deleted jobs produce no new events
