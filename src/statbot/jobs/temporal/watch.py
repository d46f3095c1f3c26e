"""The bot's side of running jobs: heartbeats become ``JOB_PROGRESS`` events, an outcome one
``JOB_FINISHED``, through :class:`~statbot.jobs.notify.JobEvents` (in order, the finished
event at least once).

Bounded, however many users wait for jobs (issue 14): one task ticks every ``poll_s``. A tick
is one visibility list of the deployment's running job workflows (:class:`.scope.Scope`): it
says which jobs still run and, from their memo, which hold an outcome for the bot (announced
from the list, no describe, no query). Describes — a job's pending activity and its last
heartbeat, the progress — are spent on at most ``max_describes`` jobs a tick: first those
that left the list (closed, deleted, or not visible yet), then this bot's own jobs whose
activity has started, then its queued ones, then, every ten ticks, the others (visibility
lags behind: a list may not show an outcome yet), the longest unseen first. So a tick costs
``1 + max_describes`` calls; the running jobs are bounded by the workers' slots, so with the
default budget their bars move every tick.

Replicas: every bot follows every running job of its deployment for its outcome (a replica
that died leaves its conversations' jobs to the others), and its own jobs — submitted here, or
running when it started — for progress too. Event ids follow the contract in
:mod:`statbot.jobs.base` and come from Temporal's own numbers (the job id; the attempt and the
count of progress reports in the heartbeat), so two bots watching one job, or a bot that
restarted, produce the same ids and the engine drops the repeats. Once the engine accepted
``JOB_FINISHED`` the runner signals the workflow, which notes it in its memo and closes: a bot
that sees it closed with ``delivered`` says nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from statbot.jobs.base import JobInfo, JobSpec, JobStatus
from statbot.jobs.launch import RESUMED_MESSAGE, STARTED_MESSAGE
from statbot.jobs.notify import JobEvents
from statbot.jobs.temporal.messages import Outcome
from statbot.jobs.temporal.scope import Scope
from statbot.jobs.temporal.state import (
    Beat,
    beat_of,
    closed_outcome,
    finished,
    outcome_in,
    spec_in,
)

log = logging.getLogger(__name__)

Observe = Callable[[str, str, float], None]
MAX_DESCRIBES = 16  # a tick's describes, at most


@dataclass(slots=True)
class _Job:
    user_id: int
    own: bool  # its progress is followed here, and its duration measured
    attempt: int = 0
    n: int = 0
    announced: bool = False
    started: bool = False  # its activity was running at the last describe
    described: float = 0.0  # time.monotonic() of the last describe


class Watcher:
    """Follows the deployment's jobs until their workflows close (or are deleted)."""

    def __init__(
        self,
        client: Client,
        scope: Scope,
        events: JobEvents,
        *,
        poll_s: float,
        max_describes: int = MAX_DESCRIBES,
    ) -> None:
        self.client = client
        self.scope = scope
        self.events = events
        self.poll_s = poll_s
        self.max_describes = max(1, max_describes)
        # Visibility is eventually consistent: another replica's job, followed from the list
        # alone, is also described this often, so a lagging list delays its outcome no more.
        self.backstop_s = 10 * poll_s
        self.delivered: set[str] = set()  # JOB_FINISHED accepted by the engine
        self.on_finished: Observe | None = None
        self._jobs: dict[str, _Job] = {}
        self._gone: set[str] = set()  # forgotten: not adopted again while visibility lists them
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0  # lists done; the first adopts what runs as this bot's own

    @property
    def watching(self) -> set[str]:
        return set(self._jobs)

    def users_jobs(self, user_id: int) -> set[str]:
        return {job_id for job_id, job in self._jobs.items() if job.user_id == user_id}

    def watch(self, job_id: str, user_id: int) -> None:
        """Follow ``job_id`` from now on, its progress too (a job submitted or found here)."""
        job = self._jobs.get(job_id)
        if job is None:
            self._jobs[job_id] = _Job(user_id, own=True)
        else:
            job.own = True
        self._gone.discard(job_id)

    async def start(self) -> None:
        """Adopt what runs now (the first tick, here: ``start`` returns following it), then
        tick in the background."""
        if self._task is None:
            await self.tick()
            self._task = asyncio.create_task(self._run(), name="temporal-watch")

    async def forget(self, job_ids: Iterable[str]) -> None:
        """Stop following these jobs and emit nothing more of them (``/forget``)."""
        ids = list(job_ids)
        self.events.forget(ids)
        for job_id in ids:
            self._drop(job_id)
        self._gone.update(ids)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._jobs.clear()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.tick()
            except RPCError as exc:
                log.warning("watching the jobs of %s: %s", self.scope.deployment, exc)
            except Exception:  # keep watching: a bad tick must not lose the jobs' ends
                log.exception("watching the jobs of %s failed", self.scope.deployment)

    async def tick(self) -> None:
        """One look at every job: one list, and at most ``max_describes`` describes."""
        listed: dict[str, WorkflowExecution] = {}
        async for execution in self.client.list_workflows(self.scope.running_query):
            job_id = self.scope.job_id(execution.id)
            if job_id is not None:
                listed[job_id] = execution
        # What runs when this bot starts is its own (it may be the only bot); what starts
        # later elsewhere is followed for its outcome only.
        own, self.ticks = self.ticks == 0, self.ticks + 1
        self._gone &= set(listed)  # visibility has caught up with the deletion of the rest
        due: list[tuple[int, float, str]] = []
        for job_id, execution in listed.items():
            job = self._jobs.get(job_id)
            if job is None and job_id not in self._gone:  # another replica's, or new here
                job = self._jobs[job_id] = _Job(spec_in(await execution.memo()).user_id, own)
            if job is None:
                continue
            if "outcome" in execution.raw_info.memo.fields:
                memo = await execution.memo()
                self._held(job_id, job, spec_in(memo), outcome_in(memo), execution)
            elif job.own:
                due.append((1 if job.started else 2, job.described, job_id))
            elif time.monotonic() - job.described > self.backstop_s:
                due.append((3, job.described, job_id))  # in case visibility lags behind
        for job_id, job in list(self._jobs.items()):
            if job_id not in listed:
                if job_id in self.delivered:
                    self._drop(job_id)  # closed: the outcome was ours to deliver, and was
                else:
                    due.append((0, job.described, job_id))  # closed, deleted or not listed yet
        due.sort()
        looks = [self._look(job_id) for *_, job_id in due[: self.max_describes]]
        for failed in await asyncio.gather(*looks, return_exceptions=True):
            if isinstance(failed, Exception):
                log.warning("a look at a job failed: %r", failed)

    async def _look(self, job_id: str) -> None:
        """Describe one job: its progress, its held outcome, or how it closed."""
        job = self._jobs.get(job_id)
        if job is None:
            return
        job.described = time.monotonic()
        handle = self.client.get_workflow_handle(self.scope.workflow_id(job_id))
        try:
            desc = await handle.describe()
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
            self._drop(job_id)  # deleted (/forget)
            return
        memo = await desc.memo()
        spec = spec_in(memo)
        if desc.status is not WorkflowExecutionStatus.RUNNING:
            if not job.announced and job_id not in self.delivered and not memo.get("delivered"):
                # It closed while nobody took its outcome, or another bot did without saying
                # so: say it; the engine drops a repeat.
                try:
                    done = await closed_outcome(
                        handle, desc.status or WorkflowExecutionStatus.FAILED
                    )
                except RPCError as exc:  # deleted since the describe (/forget): nothing to say
                    if exc.status is not RPCStatusCode.NOT_FOUND:
                        raise
                    self._drop(job_id)
                    return
                self.events.finished(finished(JobInfo(job_id, spec, JobStatus.RUNNING), done, desc))
            self._drop(job_id)
            return
        beat = await beat_of(self.client, desc)
        if beat is not None:
            job.started = beat.started
            if job.own:
                self._progress(JobInfo(job_id, spec, JobStatus.RUNNING), beat, job)
            return
        self._held(job_id, job, spec, outcome_in(memo), desc)

    def _held(
        self,
        job_id: str,
        job: _Job,
        spec: JobSpec,
        held: Outcome | None,
        execution: WorkflowExecution,
    ) -> None:
        """The job ended and its workflow holds the outcome until the engine has it."""
        if held is None or job_id in self.delivered:
            return  # not yet; or the workflow closes soon
        info = finished(JobInfo(job_id, spec, JobStatus.RUNNING), held, execution)
        if not job.announced and job.own and self.on_finished and execution.start_time:
            seconds = time.time() - execution.start_time.timestamp()
            self.on_finished(spec.kind, info.status.value, seconds)
        job.announced = True
        self.events.finished(info)  # a no-op while the last one is on its way

    def _drop(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)
        self.delivered.discard(job_id)

    def _progress(self, info: JobInfo, beat: Beat, job: _Job) -> None:
        if not beat.started:
            return
        info.attempts = beat.attempt
        if beat.attempt != job.attempt:
            job.attempt, job.n = beat.attempt, 0
            resumed = beat.attempt > 1
            info.message = (
                f"{RESUMED_MESSAGE} (attempt {beat.attempt})" if resumed else STARTED_MESSAGE
            )
            info.progress = beat.progress
            self.events.progress(info.progress_event(f"{beat.attempt}.0", resumed=resumed))
        if beat.n > job.n:
            job.n = beat.n
            info.progress, info.message = beat.progress, beat.message
            self.events.progress(info.progress_event(f"{beat.attempt}.{beat.n}"))
