"""The job as a Temporal workflow: run the job's activity, then hold its outcome for the bot.

The heavy work is the activity's (:mod:`.activity`): this code only schedules it, with a
timeout, a heartbeat timeout and a retry policy, and turns how it ended into an
:class:`~.messages.Outcome`. Cancelling the workflow (``/cancel``) cancels the activity, which
learns of it through its heartbeats and kills the job's process.

The outcome is then held (in the workflow's memo, ``outcome``; and for an operator's
``temporal workflow query``, :data:`~.messages.QUERY_OUTCOME`) until the bot signals
:data:`~.messages.SIGNAL_DELIVERED`, after the engine accepted the job's ``JOB_FINISHED``: so a
bot that crashed between the job's end and that event finds the workflow still running when it
starts again, and emits the event then (the engine dedupes a repeat). Only then does the
workflow close, and its status says how the job ended: completed (succeeded), failed, or
cancelled.

Before it closes the memo also says whether the bot took it (``delivered``). The bots'
watchers read both from their one visibility list a tick (:mod:`.watch`), without a describe
or a query per job (a query needs a worker to answer it), and a bot that finds the workflow
closed with ``delivered`` knows the conversation has it already.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from statbot.jobs.temporal.messages import (
        ACTIVITY,
        JOB_FAILED,
        NON_RETRYABLE,
        QUERY_OUTCOME,
        SIGNAL_DELIVERED,
        WORKFLOW,
        JobInput,
        Outcome,
    )

# Workflows started before the memo was written replay without it (a patch, not a new id).
_MEMO_PATCH = "outcome-in-memo"
# Beyond the job's own time limit (which the activity enforces, failing the job): Temporal's
# backstop for an activity that cannot even do that.
_BACKSTOP_S = 60.0


@workflow.defn(name=WORKFLOW)
class JobWorkflow:
    def __init__(self) -> None:
        self._outcome: Outcome | None = None
        self._delivered = False

    @workflow.run
    async def run(self, job: JobInput) -> dict[str, Any]:
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=1),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=30),
            maximum_attempts=job.max_attempts,
            non_retryable_error_types=list(NON_RETRYABLE),
        )
        try:
            done: dict[str, Any] = await workflow.execute_activity(
                ACTIVITY,
                job,
                start_to_close_timeout=timedelta(seconds=job.timeout_s + _BACKSTOP_S),
                heartbeat_timeout=timedelta(seconds=job.heartbeat_s),
                retry_policy=retry,
                # /cancel returns once the job's process is gone, not before.
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                result_type=dict,
            )
            self._outcome = Outcome(
                "succeeded", result=done["result"], attempts=int(done.get("attempt", 1))
            )
        except (ActivityError, asyncio.CancelledError) as exc:
            self._outcome = _failed(exc)
        memo = workflow.patched(_MEMO_PATCH)
        if memo:
            workflow.upsert_memo({"outcome": self._outcome.to_dict()})
        await self._wait_for_delivery(job.delivery_s)
        if memo:
            workflow.upsert_memo({"delivered": self._delivered})
        outcome = self._outcome
        if outcome.status == "cancelled":
            raise asyncio.CancelledError("the job was cancelled")
        if outcome.status == "failed":
            raise ApplicationError(
                outcome.error or "The job failed.",
                outcome.to_dict(),
                type=JOB_FAILED,
                non_retryable=True,
            )
        return outcome.to_dict()

    @workflow.query(name=QUERY_OUTCOME)
    def outcome(self) -> dict[str, Any] | None:
        return self._outcome.to_dict() if self._outcome is not None else None

    @workflow.signal(name=SIGNAL_DELIVERED)
    def delivered(self) -> None:
        self._delivered = True

    async def _wait_for_delivery(self, seconds: float) -> None:
        try:
            await workflow.wait_condition(
                lambda: self._delivered, timeout=timedelta(seconds=seconds)
            )
        except TimeoutError:
            workflow.logger.warning("nobody took the outcome in %s s; closing", seconds)


def _failed(exc: BaseException) -> Outcome:
    """The outcome of an activity that did not succeed: cancelled, or failed with the error
    the activity wrote for the user (its ApplicationError's message)."""
    if is_cancelled_exception(exc):
        return Outcome("cancelled", error="The job was cancelled.")
    cause = exc.cause if isinstance(exc, ActivityError) else None
    if isinstance(cause, ApplicationError):
        attempt = 0
        if cause.details and isinstance(cause.details[0], dict):
            attempt = int(cause.details[0].get("attempt") or 0)
        return Outcome("failed", error=cause.message, attempts=attempt)
    if cause is not None and "timeout" in type(cause).__name__.lower():
        return Outcome("failed", error="The job's worker stopped answering, so it was stopped.")
    return Outcome("failed", error="The job stopped unexpectedly.")
