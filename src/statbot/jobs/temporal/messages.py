"""What the bot, the workflow and the activity say to each other: names, and one input.

The workflow's input is one dataclass (:class:`JobInput`), the same for the workflow and its
activity, as Temporal's samples do it. Its ``spec`` is the :class:`~statbot.jobs.base.JobSpec`
as a dict; the workflow id is the spec's ``job_id`` (derived from the idempotency key), so a
duplicated submit finds the running or finished workflow and starts nothing.

This module imports nothing heavy: the workflow sandbox imports it on every workflow run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WORKFLOW = "statbot.job"
ACTIVITY = "statbot.run_job"
SIGNAL_DELIVERED = "delivered"  # the bot has the job's JOB_FINISHED: the workflow may close
QUERY_OUTCOME = "outcome"
USER_ATTRIBUTE = "StatbotUser"  # Int search attribute: /forget finds a user's workflows

# ApplicationError types that fail the job without a retry (bad input, the job's own bug, a
# job over its memory or time). A retried attempt would fail the same way.
BAD_INPUT = "BadJobInput"
JOB_CRASHED = "JobCrashed"
OUT_OF_MEMORY = "JobOutOfMemory"
TIMED_OUT = "JobTimedOut"
UNKNOWN_KIND = "UnknownJobKind"
NON_RETRYABLE = (BAD_INPUT, JOB_CRASHED, OUT_OF_MEMORY, TIMED_OUT, UNKNOWN_KIND)
JOB_FAILED = "JobFailed"  # the workflow's own failure, carrying the job's outcome

# The ingest saga as a workflow (:mod:`.ingest`): its activities, one a step and one a
# compensation, run on their own task queue (``<task queue>-ingest``) so that an upload never
# waits for a training's slot.
INGEST_WORKFLOW = "statbot.ingest"
INGEST_ACTIVITY = "statbot.ingest.{}"  # .format(step), and undo_parquet, undo_catalog
INGEST_QUEUE_SUFFIX = "-ingest"
INGEST_REFUSED = "IngestRefused"  # the user's own problem (a bad file, a limit): no retry
INGEST_FAILED = "IngestFailed"  # the workflow's failure: {step, undone, user_message, detail}


@dataclass(frozen=True, slots=True)
class JobInput:
    """One job. ``timeout_s``: one attempt's limit (the job fails when it is reached, no
    retry); ``heartbeat_s``: how long a silent attempt (its worker died) is given before
    Temporal retries it elsewhere; ``max_attempts``: attempts in all; ``delivery_s``: how long
    a finished job waits for the bot to take its outcome before the workflow closes anyway."""

    spec: dict[str, Any]
    timeout_s: float = 1800.0
    heartbeat_s: float = 30.0
    max_attempts: int = 3
    delivery_s: float = 7 * 86400.0
    memory_mb: int | None = None

    @property
    def job_id(self) -> str:
        from statbot.jobs.base import JobSpec

        return JobSpec.from_dict(self.spec).job_id


@dataclass(slots=True)
class Outcome:
    """How the job ended, as the workflow holds it until the bot has it."""

    status: str  # a JobStatus value: succeeded, failed or cancelled
    result: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "result": self.result,
            "error": self.error,
            "attempts": self.attempts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        return cls(
            status=str(data["status"]),
            result=data.get("result"),
            error=data.get("error"),
            attempts=int(data.get("attempts") or 0),
        )
