"""The JobRunner contract: submit with an idempotency key, status, progress, cancel, result.

Shaped after Temporal's model so a Temporal runner can implement it later (issue #4): one frozen
dataclass in (:class:`JobSpec`), a JSON dict out, progress as heartbeats, and ids derived from the
idempotency key so that a duplicated update can never start a second job.

Progress and completion go back to the conversation as engine events through the ``emit``
callback the app wires to ``StateManager.submit``:

- ``JOB_PROGRESS`` with ``event_id = "j<job_id>:<attempt>.<n>"`` and ``job = {job_id, kind,
  status, progress, message, attempt, resumed}``;
- ``JOB_FINISHED`` once per job with ``event_id = "j<job_id>:done"`` and ``job = {job_id, kind,
  status, result, error, attempts}``. After a crash it may be emitted again with the same id; the
  engine dedupes it. Its ``text`` is a one-line outcome for the user (the result's ``summary``, or
  "<Label> failed. <error>"), which the engine shows when the conversation has moved on.
"""

from __future__ import annotations

import hashlib
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from statbot.engine.events import ConversationKey, Event, EventKind
from statbot.errors import JobError

if TYPE_CHECKING:
    from statbot.jobs.ingest import IngestInput, IngestStores, Stored
    from statbot.jobs.saga import Saga

Emit = Callable[[Event], Awaitable[object]]
# The error of a job whose worker process could not be started: it did no work.
NOT_STARTED = "The job could not be started."


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What to run. ``kind`` names a function registered with :func:`register_job`.

    ``key`` is the conversation key (``str(ConversationKey)``) that receives the job's events;
    ``idempotency_key`` is derived from what asked for the job (e.g. the update id that confirmed
    the training): the same key always means the same job. ``timeout_s`` / ``memory_mb`` of None
    take the runner's defaults.
    """

    kind: str
    key: str
    user_id: int
    idempotency_key: str
    payload: dict[str, Any] = field(default_factory=dict)
    timeout_s: float | None = None
    memory_mb: int | None = None

    @property
    def job_id(self) -> str:
        """Deterministic id: the same idempotency key gives the same job id on every runner."""
        digest = hashlib.sha256(self.idempotency_key.encode("utf-8")).hexdigest()
        return digest[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "user_id": self.user_id,
            "idempotency_key": self.idempotency_key,
            "payload": self.payload,
            "timeout_s": self.timeout_s,
            "memory_mb": self.memory_mb,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobSpec:
        timeout = data.get("timeout_s")
        memory = data.get("memory_mb")
        return cls(
            kind=str(data["kind"]),
            key=str(data["key"]),
            user_id=int(data["user_id"]),
            idempotency_key=str(data["idempotency_key"]),
            payload=dict(data.get("payload") or {}),
            timeout_s=float(timeout) if timeout is not None else None,
            memory_mb=int(memory) if memory is not None else None,
        )


@dataclass(slots=True)
class JobInfo:
    """A job as the runner sees it now. ``error`` is written for the user."""

    job_id: str
    spec: JobSpec
    status: JobStatus
    attempts: int = 0
    progress: float = 0.0
    message: str = ""
    result: dict[str, Any] | None = None
    error: str | None = None
    queue_position: int | None = None  # 1 = next to start; None unless queued
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.status.finished

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "spec": self.spec.to_dict(),
            "status": self.status.value,
            "attempts": self.attempts,
            "progress": self.progress,
            "message": self.message,
            "result": self.result,
            "error": self.error,
            "queue_position": self.queue_position,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }

    def progress_event(self, seq: str, *, resumed: bool = False) -> Event:
        return Event(
            key=ConversationKey.parse(self.spec.key),
            kind=EventKind.JOB_PROGRESS,
            event_id=f"j{self.job_id}:{seq}",
            job={
                "job_id": self.job_id,
                "kind": self.spec.kind,
                "status": self.status.value,
                "progress": self.progress,
                "message": self.message,
                "attempt": self.attempts,
                "resumed": resumed,
            },
        )

    def finished_event(self, text: str = "") -> Event:
        """``text``: what the engine tells the user if the chat no longer waits for this job."""
        return Event(
            key=ConversationKey.parse(self.spec.key),
            kind=EventKind.JOB_FINISHED,
            event_id=f"j{self.job_id}:done",
            text=text,
            job={
                "job_id": self.job_id,
                "kind": self.spec.kind,
                "status": self.status.value,
                "result": self.result,
                "error": self.error,
                "attempts": self.attempts,
            },
        )


class JobRunner(ABC):
    """Runs registered job functions out of the event loop and reports back through events."""

    name: str = "abstract"

    @abstractmethod
    async def start(self) -> None:
        """Begin supervising: resume jobs interrupted by a crash or stop, re-emit undelivered
        completions, start queued jobs. Idempotent."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop supervising. Unfinished jobs are not lost: they resume on the next start."""

    @abstractmethod
    async def submit(self, spec: JobSpec) -> JobInfo:
        """Queue ``spec``; the same ``idempotency_key`` returns the existing job, never a second."""

    @abstractmethod
    async def status(self, job_id: str) -> JobInfo | None: ...

    @abstractmethod
    async def cancel(self, job_id: str) -> bool:
        """Stop a queued or running job (its process is killed). False if unknown or finished."""

    @abstractmethod
    async def list(self, user_id: int) -> list[JobInfo]:
        """The user's jobs, oldest first."""

    @abstractmethod
    async def delete_user(self, user_id: int) -> int:
        """Cancel and forget every job of the user (``/forget``); returns how many."""

    @abstractmethod
    async def counts(self) -> dict[str, int]:
        """Number of jobs by status (every status present, zeros included)."""

    def observe_durations(self, fn: Callable[[str, str, float], None]) -> None:  # noqa: B027
        """``fn(kind, status, seconds)`` for every job that ran and finished (for metrics);
        a runner that cannot tell ignores it."""

    async def result(self, job_id: str) -> dict[str, Any] | None:
        """The result of a succeeded job; None while it is unfinished. Raises :class:`JobError`
        (with the job's user-facing error) when it failed or was cancelled, or is unknown."""
        info = await self.status(job_id)
        if info is None:
            raise JobError(f"unknown job {job_id}", user_message="That job does not exist.")
        if info.status is JobStatus.SUCCEEDED:
            return info.result
        if info.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            message = info.error or f"The job was {info.status.value}."
            raise JobError(f"job {job_id} {info.status.value}: {message}", user_message=message)
        return None

    async def ingest(self, job: IngestInput, saga: Saga, stores: IngestStores) -> Stored:
        """The ingest saga's steps after ``stage`` (issue 14, :mod:`statbot.jobs.ingest`):
        here, inline in a thread on the chat's ``stores``, each compensation in ``saga`` (the
        caller runs ``saga.fail`` when this raises). A runner that runs them elsewhere (the
        Temporal runner: a workflow, compensated there) raises
        :class:`~statbot.jobs.ingest.IngestFailed` and tells ``saga`` what it undid."""
        import asyncio

        from statbot.jobs.ingest import run_steps

        return await asyncio.to_thread(run_steps, saga, stores, job)

    wait_poll_s: float = 0.05  # how often wait() reads the status

    async def wait(self, job_id: str) -> JobInfo:
        """Until the job has finished (tests, CLI); bound it with ``asyncio.timeout``."""
        import asyncio

        while True:
            info = await self.status(job_id)
            if info is None:
                raise JobError(f"unknown job {job_id}")
            if info.finished:
                return info
            await asyncio.sleep(self.wait_poll_s)

    async def __aenter__(self) -> JobRunner:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
