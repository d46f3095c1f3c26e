"""The ingest saga as a Temporal workflow (issue 14): ``STATBOT_JOBS=temporal``.

The bot stages the upload in the shared data dir (the ``stage`` step stays in the chat: it is
the channel's download) and starts this workflow with the file's path and the user's limits
(:class:`~statbot.jobs.ingest.IngestInput`); its id is ``<deployment>/ingest/<user>/<event
id>`` (:meth:`~.scope.Scope.ingest_id`), so a replayed event (a crash, another replica) starts
nothing new: the bot attaches to the running workflow or reads the closed one's result.

Then one activity a step (:mod:`.ingest_activity`): validate, parquet, catalog, quota. A
failure compensates in reverse, each compensation an activity, in workflow code (the
:class:`~statbot.jobs.saga.Saga`). An activity that fails may have done its work before it
failed (the tests fail it right after), and a retry cannot tell whether the attempt before
wrote the file or the row; so a step's compensation is registered *before* the step runs and
decides by what is there: the file is removed unless a row names it, and the row unless the
dataset was stored before this run (the ``parquet`` step says so). The user's own problem is
not retried; the disk's or the catalog's is, a little, then compensated. The workflow then
fails with :data:`~.messages.INGEST_FAILED`, its details saying the step, what was undone and
the user's words (None: not the user's problem); the bot counts the metrics from them and
keeps the staging folder as ``.failed``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from statbot.jobs.ingest import CATALOG, PARQUET, QUOTA, SAGA, VALIDATE, IngestInput
    from statbot.jobs.saga import Saga
    from statbot.jobs.temporal.messages import (
        INGEST_ACTIVITY,
        INGEST_FAILED,
        INGEST_QUEUE_SUFFIX,
        INGEST_REFUSED,
        INGEST_WORKFLOW,
    )

# Disk and catalog trouble is retried a little (a moment's lock, a reconnect), then undone:
# the user is waiting in the chat.
RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=3,
    non_retryable_error_types=[INGEST_REFUSED],
)
UNDO_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5)
# Reading a file of STATBOT_MAX_FILE_MB and writing it as Parquet, with room to spare.
STEP_TIMEOUT = timedelta(minutes=10)


@workflow.defn(name=INGEST_WORKFLOW)
class IngestWorkflow:
    @workflow.run
    async def run(self, job: IngestInput) -> dict[str, Any]:
        saga = Saga(SAGA)
        try:
            checked = await self._act(saga, VALIDATE, job)
            ref = {"user_id": job.user_id, "digest": checked["digest"], "name": job.name}
            saga.on_failure(PARQUET, lambda: self._undo("undo_parquet", job, ref))
            written = await self._act(saga, PARQUET, job, checked["digest"])
            ref = written["ref"]
            if not written["existing"]:  # a row of another, earlier run is not this run's
                saga.on_failure(CATALOG, lambda: self._undo("undo_catalog", job, ref))
            await self._act(saga, CATALOG, job, ref)
            await self._act(saga, QUOTA, job, checked["before"])
        except ActivityError as exc:
            undone = await saga.fail_async(exc)
            raise _failure(saga.step_name, undone, exc) from None
        stored: dict[str, Any] = checked["stored"]
        return {**stored, "ref": ref}

    async def _act(self, saga: Saga, step: str, *args: Any) -> Any:
        saga.step_name = step
        return await workflow.execute_activity(
            INGEST_ACTIVITY.format(step),
            args=list(args),
            task_queue=workflow.info().task_queue + INGEST_QUEUE_SUFFIX,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _undo(self, name: str, job: IngestInput, ref: dict[str, Any]) -> None:
        await workflow.execute_activity(
            INGEST_ACTIVITY.format(name),
            args=[job, ref],
            task_queue=workflow.info().task_queue + INGEST_QUEUE_SUFFIX,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=UNDO_RETRY,
        )


def _failure(step: str, undone: list[str], exc: ActivityError) -> ApplicationError:
    """The workflow's failure: the step, what was undone, and the user's words when the step
    refused the file (its own problem), else what went wrong (for the log)."""
    cause = exc.cause
    refused = (
        cause if isinstance(cause, ApplicationError) and cause.type == INGEST_REFUSED else None
    )
    outcome = {
        "step": step,
        "undone": undone,
        "user_message": refused.message if refused is not None else None,
        "detail": str(refused.details[0]) if refused and refused.details else str(cause or exc),
    }
    detail = outcome["detail"]
    return ApplicationError(
        f"ingest failed at {step}: {detail}", outcome, type=INGEST_FAILED, non_retryable=True
    )
