"""The Temporal worker that runs statbot's workflows and activities: the jobs (training) and
the ingest saga (issue 14), whose activities poll a task queue of their own
(``<task queue>-ingest``) so that an upload does not wait for a training's slot.

Run inside the bot (``STATBOT_TEMPORAL_WORKER=true``, the default: one process does it all) or
as processes of their own (``statbot worker``, as many as the machines allow, on the same task
queue and the same data volume). The workflows run in Temporal's sandbox; statbot's modules
pass through it (they are imported once, not per workflow run). Heartbeats are sent at most
every ``beat_s`` seconds, so the chat's progress bar moves in steps of about that.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from statbot.jobs.kinds import DEFAULT_MODULES
from statbot.jobs.temporal.activity import JobActivity
from statbot.jobs.temporal.ingest import IngestWorkflow
from statbot.jobs.temporal.ingest_activity import IngestActivities
from statbot.jobs.temporal.messages import INGEST_QUEUE_SUFFIX
from statbot.jobs.temporal.workflow import JobWorkflow

if TYPE_CHECKING:
    from statbot.config import Settings
    from statbot.jobs.saga import Checkpoint

log = logging.getLogger(__name__)


def jobs_root(data_dir: Path) -> Path:
    """Where the jobs' folders live (task, outputs, charts, the worker log)."""
    return Path(data_dir).absolute() / "jobs" / "temporal"


INGEST_SLOTS = 4  # ingest steps at once on one worker (each holds at most one table)


@dataclass
class Workers:
    """One process's Temporal workers: the workflows and the jobs' activity on the task
    queue, the ingest's activities on theirs. Run, shut down and used as one."""

    jobs: Worker
    ingest: Worker
    activities: IngestActivities

    async def run(self) -> None:
        try:
            await asyncio.gather(self.jobs.run(), self.ingest.run())
        finally:
            self.activities.close()

    async def shutdown(self) -> None:
        await asyncio.gather(self.jobs.shutdown(), self.ingest.shutdown())

    async def __aenter__(self) -> Workers:
        await self.jobs.__aenter__()
        await self.ingest.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await asyncio.gather(self.ingest.__aexit__(None, None, None),
                                 self.jobs.__aexit__(None, None, None))  # fmt: skip
        finally:
            self.activities.close()


def build_worker(
    client: Client,
    *,
    task_queue: str,
    data_dir: Path,
    modules: Sequence[str] = DEFAULT_MODULES,
    max_jobs: int = 1,
    beat_s: float = 1.0,
    catalog_url: str | None = None,
    ingest_checkpoint: Checkpoint | None = None,
) -> Workers:
    """Workers for ``task_queue`` running at most ``max_jobs`` jobs at once; its jobs and
    ingests record what they make (a model's row, a dataset's) in the catalog at
    ``catalog_url``. ``ingest_checkpoint``: the tests' failure injection after each ingest
    step."""
    job = JobActivity(jobs_root(data_dir), tuple(modules), beat_s=beat_s, catalog_url=catalog_url)
    ingest = IngestActivities(Path(data_dir).absolute(), catalog_url, ingest_checkpoint)
    restrictions = SandboxRestrictions.default.with_passthrough_modules("statbot")
    jobs = Worker(
        client,
        task_queue=task_queue,
        workflows=[JobWorkflow, IngestWorkflow],
        activities=[job.run],
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
        max_concurrent_activities=max_jobs,
        max_heartbeat_throttle_interval=timedelta(seconds=beat_s),
        default_heartbeat_throttle_interval=timedelta(seconds=beat_s),
        # A stopping worker gives its jobs a moment, then cancels them (their processes are
        # killed) and Temporal retries them on the next worker.
        graceful_shutdown_timeout=timedelta(seconds=2),
    )
    steps = Worker(
        client,
        task_queue=task_queue + INGEST_QUEUE_SUFFIX,
        activities=ingest.all(),
        max_concurrent_activities=INGEST_SLOTS,
        # An ingest step is seconds of work: let it finish rather than retry it elsewhere.
        graceful_shutdown_timeout=timedelta(seconds=10),
    )
    return Workers(jobs, steps, ingest)


async def run_worker(settings: Settings, modules: Sequence[str] = DEFAULT_MODULES) -> None:
    """``statbot worker``: serve the settings' task queue until SIGTERM or SIGINT."""
    from statbot.access.catalog import database_url
    from statbot.jobs.temporal.connection import connect

    client = await connect(settings.temporal_address, settings.temporal_namespace)
    worker = build_worker(
        client,
        task_queue=settings.temporal_task_queue,
        data_dir=settings.data_dir,
        modules=modules,
        catalog_url=database_url(settings),
        max_jobs=settings.job_concurrency,
    )
    log.info("temporal worker on %s, task queue %s, %d job slot(s)",
             settings.temporal_address, settings.temporal_task_queue,
             settings.job_concurrency)  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with worker:  # shuts down on the way out: running jobs go back to Temporal
        await stop.wait()
    log.info("temporal worker stopped")
