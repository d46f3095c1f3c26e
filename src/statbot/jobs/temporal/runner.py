"""The Temporal job runner (``STATBOT_JOBS=temporal``): the JobRunner contract on workflows.

A job is a workflow (:mod:`.workflow`) whose id is the spec's ``job_id`` in the deployment's
scope (``<deployment>/<job id>``, :mod:`.scope`): a second submit of the same idempotency key
meets ``WorkflowAlreadyStartedError`` (a running or a closed workflow of that id; the reuse
policy rejects duplicates) and returns the job that exists, while another deployment sharing
the namespace starts its own. The job's spec is the workflow's memo; its user an Int search
attribute (``StatbotUser``), so ``list`` and ``/forget`` find a user's workflows. Progress
and completion come back as engine events through ``emit`` (:mod:`.watch`); ``cancel`` cancels
the workflow; ``delete_user`` cancels the user's workflows, asks Temporal to delete them (their
histories hold the jobs' input; Temporal removes them in the background, within seconds to a
minute on the dev server) and removes their folders at once.

Durability is Temporal's: a job's state lives in the server, not here. A stopped bot loses
nothing — the runner follows every job workflow of its deployment still running (one list a
tick, :mod:`.watch`), so one whose outcome the bot had not yet taken is announced when it starts
again, or by another replica. The runner starts a worker in this process unless
``worker=False`` (then ``statbot worker`` processes run the jobs).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import logging
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from statbot.errors import JobError
from statbot.jobs.base import Emit, JobInfo, JobRunner, JobSpec, JobStatus
from statbot.jobs.kinds import DEFAULT_MODULES, get_job, load_job_modules
from statbot.jobs.notify import JobEvents
from statbot.jobs.temporal.connection import connect, ensure_user_attribute, user_attributes
from statbot.jobs.temporal.messages import SIGNAL_DELIVERED, WORKFLOW, JobInput
from statbot.jobs.temporal.scope import Scope
from statbot.jobs.temporal.state import describe
from statbot.jobs.temporal.watch import MAX_DESCRIBES, Watcher
from statbot.jobs.temporal.worker import Workers, build_worker, jobs_root

if TYPE_CHECKING:
    from statbot.config import Settings
    from statbot.jobs.ingest import IngestInput, IngestStores, Stored
    from statbot.jobs.saga import Saga

__all__ = ["TemporalJobRunner"]

log = logging.getLogger(__name__)

# Temporal's statuses as the `counts()` contract names them (queued and running both show as
# running workflows: telling them apart needs a describe per workflow).
_COUNTED = {
    "Running": JobStatus.RUNNING,
    "Completed": JobStatus.SUCCEEDED,
    "Failed": JobStatus.FAILED,
    "Canceled": JobStatus.CANCELLED,
    "Terminated": JobStatus.FAILED,
    "TimedOut": JobStatus.FAILED,
}


class TemporalJobRunner(JobRunner):
    name = "temporal"
    wait_poll_s = 0.1

    def __init__(
        self,
        data_dir: Path,
        *,
        emit: Emit,
        address: str = "127.0.0.1:7233",
        namespace: str = "default",
        task_queue: str = "statbot-jobs",
        deployment: str | None = None,
        worker: bool = True,
        concurrency: int = 1,
        modules: Sequence[str] = DEFAULT_MODULES,
        default_timeout_s: float | None = 1800.0,
        default_memory_mb: int | None = 4096,
        heartbeat_timeout_s: float = 30.0,
        max_attempts: int = 3,
        progress_interval_s: float = 1.0,
        cancel_wait_s: float = 10.0,
        max_describes: int = MAX_DESCRIBES,
        client: Client | None = None,
        catalog_url: str | None = None,
        ingest_wait_s: float = 600.0,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.catalog_url = catalog_url  # where a training job records its model (issue 12)
        self.emit = emit
        self.address, self.namespace, self.task_queue = address, namespace, task_queue
        self.scope = Scope(task_queue, deployment or task_queue)
        self.run_worker = worker
        self.concurrency = concurrency
        self.modules = tuple(modules)
        self.default_timeout_s = default_timeout_s or 1800.0
        self.default_memory_mb = default_memory_mb
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.max_attempts = max_attempts
        self.poll_s = max(0.05, progress_interval_s)
        self.cancel_wait_s = cancel_wait_s
        self.max_describes = max_describes
        self.ingest_wait_s = ingest_wait_s  # how long a chat waits for its ingest workflow
        self._client = client
        self._watcher: Watcher | None = None
        self._worker: Workers | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._events = JobEvents(emit, self._delivered)
        self._observe: Callable[[str, str, float], None] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, emit: Emit, **overrides: Any
    ) -> TemporalJobRunner:
        from statbot.access.catalog import database_url

        options: dict[str, Any] = {
            "catalog_url": database_url(settings),
            "address": settings.temporal_address,
            "namespace": settings.temporal_namespace,
            "task_queue": settings.temporal_task_queue,
            "deployment": settings.temporal_deployment,
            "worker": settings.temporal_worker,
            "heartbeat_timeout_s": settings.temporal_heartbeat_seconds,
            "concurrency": settings.job_concurrency,
            "default_timeout_s": settings.job_timeout_seconds,
            "default_memory_mb": settings.job_memory_mb,
        }
        options.update(overrides)
        return cls(Path(settings.data_dir), emit=emit, **options)

    @property
    def client(self) -> Client:
        if self._client is None or self._watcher is None:
            raise JobError("the temporal job runner is not started")
        return self._client

    # lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._watcher is not None:
            return
        load_job_modules(self.modules)
        if self._client is None:
            self._client = await connect(self.address, self.namespace)
        await ensure_user_attribute(self._client, self.namespace)
        if self.run_worker:
            self._worker = build_worker(
                self._client,
                task_queue=self.task_queue,
                data_dir=self.data_dir,
                modules=self.modules,
                max_jobs=self.concurrency,
                catalog_url=self.catalog_url,
            )
            self._worker_task = asyncio.create_task(self._worker.run(), name="temporal-worker")
        self._events.start()
        self._watcher = Watcher(
            self._client, self.scope, self._events, poll_s=self.poll_s,
            max_describes=self.max_describes,
        )  # fmt: skip
        self._watcher.on_finished = self._observe
        try:
            await self._watcher.start()  # what runs now is followed once this returns
        except BaseException:
            await self.stop()
            raise
        log.info("temporal job runner started: %s, task queue %s, deployment %s%s", self.address,
                 self.task_queue, self.scope.deployment,
                 " with a worker" if self.run_worker else "")  # fmt: skip

    async def stop(self) -> None:
        if self._watcher is None:
            return
        await self._watcher.stop()
        self._watcher = None
        await self._events.stop()
        if self._worker is not None and self._worker_task is not None:
            await self._worker.shutdown()  # running jobs are retried by the next worker
            await asyncio.gather(self._worker_task, return_exceptions=True)
        self._worker = self._worker_task = None
        log.info("temporal job runner stopped")

    # the contract -----------------------------------------------------------------------------
    async def submit(self, spec: JobSpec) -> JobInfo:
        client = self.client
        get_job(spec.kind)
        try:
            json.dumps(spec.payload, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise JobError(f"job payload is not JSON: {exc}") from exc
        job = JobInput(
            spec=spec.to_dict(),
            timeout_s=spec.timeout_s if spec.timeout_s is not None else self.default_timeout_s,
            heartbeat_s=self.heartbeat_timeout_s,
            max_attempts=self.max_attempts,
            memory_mb=spec.memory_mb if spec.memory_mb is not None else self.default_memory_mb,
        )
        try:
            await client.start_workflow(
                WORKFLOW,
                job,
                id=self.scope.workflow_id(spec.job_id),
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                memo={"spec": spec.to_dict()},
                search_attributes=user_attributes(spec.user_id),
            )
            log.info("job %s (%s) started for user %d", spec.job_id, spec.kind, spec.user_id)
        except WorkflowAlreadyStartedError:
            log.info("job %s exists already; nothing started", spec.job_id)
        info = await self.status(spec.job_id)
        if info is None:
            raise JobError(f"job {spec.job_id} vanished right after it was submitted")
        if not info.finished:
            assert self._watcher is not None
            self._watcher.watch(spec.job_id, spec.user_id)
        return info

    async def ingest(self, job: IngestInput, saga: Saga, stores: IngestStores) -> Stored:
        """As an ``IngestWorkflow`` (:mod:`.ingest`) on the workers' shared data dir and catalog
        (``stores``, the chat's, are not written here)."""
        from statbot.jobs.temporal.ingest_start import run_ingest

        return await run_ingest(self.client, self.scope, job, saga, wait_s=self.ingest_wait_s)

    async def status(self, job_id: str) -> JobInfo | None:
        return await describe(self.client, self.scope.workflow_id(job_id), job_id)

    async def cancel(self, job_id: str) -> bool:
        info = await self.status(job_id)
        if info is None or info.finished:
            return False
        await self._handle(job_id).cancel()
        log.info("job %s: cancel requested", job_id)
        # As the local runner's: back once the job's process is gone (the activity learns of
        # the cancel with its next heartbeat's answer, about a second), bounded.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.cancel_wait_s):
                while True:
                    now = await self.status(job_id)
                    if now is None or now.finished:
                        break
                    await asyncio.sleep(0.1)
        return True

    async def list(self, user_id: int) -> list[JobInfo]:
        infos = [info for info in [await self.status(i) for i in await self._ids(user_id)] if info]
        return sorted(infos, key=lambda info: info.created_at)

    async def delete_user(self, user_id: int) -> int:
        ids = await self._ids(user_id)
        assert self._watcher is not None
        await self._watcher.forget(ids)
        client = self.client
        for job_id in ids:
            execution = WorkflowExecution(workflow_id=self.scope.workflow_id(job_id))
            request = DeleteWorkflowExecutionRequest(
                namespace=self.namespace, workflow_execution=execution
            )
            with contextlib.suppress(RPCError):  # RPCError: closed already
                await self._handle(job_id).cancel()  # the job's process stops
            try:
                await client.workflow_service.delete_workflow_execution(request)
            except RPCError as exc:
                if exc.status is not RPCStatusCode.NOT_FOUND:
                    raise
        for job_id in ids:
            await asyncio.to_thread(shutil.rmtree, jobs_root(self.data_dir) / job_id, True)
        from statbot.jobs.temporal.ingest_start import delete_ingests

        await delete_ingests(client, self.scope, self.namespace, user_id)  # not jobs: uncounted
        return len(ids)

    async def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((s.value for s in JobStatus), 0)
        query = f"{self.scope.jobs_query} GROUP BY ExecutionStatus"
        found = await self.client.count_workflows(query)
        for group in found.groups:
            status = _COUNTED.get(str(group.group_values[0]), JobStatus.FAILED)
            counts[status.value] += group.count
        return counts

    def observe_durations(self, fn: Callable[[str, str, float], None]) -> None:
        """``fn(kind, status, seconds)`` for every job that finished (for metrics)."""
        self._observe = fn
        if self._watcher is not None:
            self._watcher.on_finished = fn

    # helpers ----------------------------------------------------------------------------------
    def _handle(self, job_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(self.scope.workflow_id(job_id))

    async def _ids(self, user_id: int) -> builtins.list[str]:
        """The user's job ids: by search attribute, and those this runner follows
        (visibility lags a workflow's start by a moment)."""
        query = self.scope.user_query(user_id)
        listed = [self.scope.job_id(w.id) async for w in self.client.list_workflows(query)]
        ids = [job_id for job_id in listed if job_id is not None]
        assert self._watcher is not None
        return ids + sorted(self._watcher.users_jobs(user_id) - set(ids))

    async def _delivered(self, job_id: str) -> None:
        """The engine has the job's JOB_FINISHED: the workflow may close."""
        if self._watcher is None:
            return
        self._watcher.delivered.add(job_id)
        try:
            await self._handle(job_id).signal(SIGNAL_DELIVERED)
        except RPCError as exc:  # closed or deleted meanwhile
            log.info("job %s: the delivered signal was refused: %s", job_id, exc)
