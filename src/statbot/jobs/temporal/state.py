"""A job workflow as a :class:`~statbot.jobs.base.JobInfo`: what Temporal knows of it now.

Running: its pending activity says queued (scheduled, first attempt), running (started, or
waiting for a retry) and the last heartbeat's progress and message; with no pending activity
the workflow holds the outcome until the bot took it (its memo's ``outcome``: no query, so no
worker need answer). Closed: its status says how the job ended,
its result or failure carries the outcome. The job's spec is the workflow's memo's ``spec``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from statbot.jobs.base import JobInfo, JobSpec, JobStatus
from statbot.jobs.temporal.messages import Outcome

CLOSED_STATUS = {
    WorkflowExecutionStatus.COMPLETED: JobStatus.SUCCEEDED,
    WorkflowExecutionStatus.FAILED: JobStatus.FAILED,
    WorkflowExecutionStatus.CANCELED: JobStatus.CANCELLED,
    WorkflowExecutionStatus.TERMINATED: JobStatus.FAILED,
    WorkflowExecutionStatus.TIMED_OUT: JobStatus.FAILED,
    WorkflowExecutionStatus.CONTINUED_AS_NEW: JobStatus.FAILED,
}
STOPPED = "The job was stopped."


@dataclass(slots=True)
class Beat:
    """The pending activity's attempt and its last heartbeat (``n`` progress reports)."""

    attempt: int
    started: bool
    progress: float = 0.0
    message: str = ""
    n: int = -1


def spec_in(memo: Mapping[str, Any]) -> JobSpec:
    return JobSpec.from_dict(dict(memo["spec"]))


def outcome_in(memo: Mapping[str, Any]) -> Outcome | None:
    """The outcome the workflow wrote into its memo once the job ended, if it has."""
    data = memo.get("outcome")
    return Outcome.from_dict(data) if isinstance(data, dict) else None


async def spec_of(desc: WorkflowExecutionDescription) -> JobSpec:
    return spec_in(await desc.memo())


async def beat_of(client: Client, desc: WorkflowExecutionDescription) -> Beat | None:
    pending = list(desc.raw_description.pending_activities)
    if not pending:
        return None
    act = pending[0]
    beat = Beat(
        attempt=int(act.attempt),
        started=act.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
    )
    if act.HasField("heartbeat_details") and act.heartbeat_details.payloads:
        values = await client.data_converter.decode(act.heartbeat_details.payloads)
        details = values[0] if values and isinstance(values[0], dict) else {}
        if int(details.get("a") or 0) != beat.attempt:
            return beat  # the previous attempt's last heartbeat
        beat.progress = float(details.get("p") or 0.0)
        beat.message = str(details.get("m") or "")
        n = details.get("n")
        beat.n = int(n) if n is not None else -1
    return beat


async def closed_outcome(
    handle: WorkflowHandle[Any, Any], status: WorkflowExecutionStatus
) -> Outcome:
    job_status = CLOSED_STATUS.get(status, JobStatus.FAILED)
    if job_status is JobStatus.CANCELLED:
        return Outcome("cancelled", error="The job was cancelled.")
    try:
        data = await handle.result(follow_runs=False)
    except WorkflowFailureError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.details:
            detail = cause.details[0]
            if isinstance(detail, dict) and "status" in detail:
                return Outcome.from_dict(detail)
        return Outcome("failed", error=STOPPED)
    if isinstance(data, dict) and "status" in data:
        return Outcome.from_dict(data)
    return Outcome("failed", error=STOPPED)


async def describe(client: Client, workflow_id: str, job_id: str) -> JobInfo | None:
    """The job now, or None when Temporal has no workflow of that id."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        desc = await handle.describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    memo = await desc.memo()
    info = JobInfo(job_id, spec_in(memo), JobStatus.QUEUED)
    info.created_at = desc.start_time.timestamp() if desc.start_time else info.created_at
    if desc.status is not WorkflowExecutionStatus.RUNNING:
        try:
            done = await closed_outcome(handle, desc.status or WorkflowExecutionStatus.FAILED)
        except RPCError as exc:  # deleted between the describe and the result (/forget)
            if exc.status is RPCStatusCode.NOT_FOUND:
                return None
            raise
        return finished(info, done, desc)
    beat = await beat_of(client, desc)
    if beat is not None:
        info.attempts = beat.attempt
        info.progress, info.message = beat.progress, beat.message
        if beat.started or beat.attempt > 1:
            info.status = JobStatus.RUNNING
        else:
            info.queue_position = 1  # Temporal does not say how many wait before it
        return info
    held = outcome_in(memo)
    return finished(info, held, desc) if held is not None else info


def finished(info: JobInfo, done: Outcome, desc: WorkflowExecution) -> JobInfo:
    """``info`` as ended with ``done``; ``desc``: the workflow described or listed."""
    info.status = JobStatus(done.status)
    info.result, info.error = done.result, done.error
    info.attempts = done.attempts or info.attempts
    info.progress = 1.0 if info.status is JobStatus.SUCCEEDED else info.progress
    if desc.close_time is not None:
        info.finished_at = desc.close_time.timestamp()
    return info
