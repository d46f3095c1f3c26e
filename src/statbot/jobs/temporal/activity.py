"""The job's activity: the registered job function, run in the job worker subprocess.

The activity itself is a small async supervisor in the Temporal worker: it starts
``python -m statbot.jobs.worker`` (the local runner's worker, with its rlimits, its process
group and its JSON-lines protocol), turns the job's progress lines into heartbeats, and kills
the process group when the activity is cancelled (``/cancel``: Temporal says so in a heartbeat's
answer), when the job's time is up, or when the worker shuts down. The job's process dies with
the Temporal worker (``PR_SET_PDEATHSIG``): a worker killed mid-training leaves nothing running,
and Temporal retries the attempt once its heartbeats stop.

An attempt's outputs are idempotent as the local runner's are (same key → same model id); a
``result.json`` an earlier attempt left behind (it finished; the worker died before it could
say so) is the attempt's result, without running the job again. Errors are translated here:
the job's own refusal (``StatbotError``), its bug, memory and time limits fail the job without
a retry (a non-retryable ApplicationError, message written for the user); a process killed by
a signal is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from statbot.jobs.base import JobSpec, JobStatus
from statbot.jobs.kinds import DEFAULT_MODULES, load_job_modules, registered_kinds
from statbot.jobs.process import kill_group, spawn_worker
from statbot.jobs.supervise import Run, outcome, read_protocol, read_result
from statbot.jobs.temporal.messages import (
    ACTIVITY,
    BAD_INPUT,
    JOB_CRASHED,
    OUT_OF_MEMORY,
    TIMED_OUT,
    UNKNOWN_KIND,
    JobInput,
)
from statbot.jobs.worker import write_json_atomic

log = logging.getLogger(__name__)

_ERROR_TYPES = {"user": BAD_INPUT, "crash": JOB_CRASHED, "memory": OUT_OF_MEMORY}


@dataclass
class JobActivity:
    """The activity, configured by its worker. ``root``: where each job's folder lives (on a
    volume every worker shares, so that a retry elsewhere finds an earlier attempt's result);
    ``modules``: the job modules this worker serves; ``beat_s``: the heartbeat tick when the
    job reports nothing (Temporal throttles what it sends)."""

    root: Path
    modules: tuple[str, ...] = DEFAULT_MODULES
    python: str = sys.executable
    beat_s: float = 1.0
    catalog_url: str | None = None  # handed to the job's process (never written to task.json)
    _loaded: bool = field(default=False, init=False)

    def folder(self, job_id: str) -> Path:
        return self.root / job_id

    @activity.defn(name=ACTIVITY)
    async def run(self, job: JobInput) -> dict[str, Any]:
        info = activity.info()
        spec = JobSpec.from_dict(job.spec)
        self._load()
        if spec.kind not in registered_kinds():
            raise ApplicationError(
                "This kind of job is not available.", type=UNKNOWN_KIND, non_retryable=True
            )
        folder = self.folder(spec.job_id)
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        earlier = await asyncio.to_thread(read_result, folder)
        if earlier is not None:
            log.info("job %s: attempt %d found an earlier attempt's result", spec.job_id,
                     info.attempt)  # fmt: skip
            return {"result": earlier, "attempt": info.attempt}
        task_file = folder / "task.json"
        task = {
            "job_id": spec.job_id,
            "kind": spec.kind,
            "payload": spec.payload,
            "workdir": str(folder),
            "memory_mb": job.memory_mb,
            "modules": list(self.modules),
            "parent_pid": os.getpid(),
            "attempt": info.attempt,
        }
        await asyncio.to_thread(write_json_atomic, task_file, task)
        proc = await spawn_worker(self.python, task_file, folder / "worker.log", self.catalog_url)
        run = Run(spec.job_id, spec, info.attempt, proc.pid, folder, proc=proc)
        run.timeout_s, run.memory_mb = job.timeout_s, job.memory_mb
        log.info("job %s attempt %d started in pid %d", spec.job_id, info.attempt, proc.pid)
        await self._supervise(run, proc)
        status, result, error = outcome(run, proc.returncode)
        if status is JobStatus.SUCCEEDED:
            return {"result": result, "attempt": info.attempt}
        kind = TIMED_OUT if run.timed_out else _ERROR_TYPES.get(str(run.error.get("code")))
        details = {"attempt": info.attempt}
        if kind is None:  # killed by a signal (the OOM killer, an operator): worth another try
            raise ApplicationError(error or "The job stopped unexpectedly.", details)
        raise ApplicationError(error or "The job failed.", details, type=kind, non_retryable=True)

    async def _supervise(self, run: Run, proc: asyncio.subprocess.Process) -> None:
        beats = asyncio.create_task(self._beat(run), name=f"heartbeat-{run.job_id}")
        try:
            async with asyncio.timeout(run.timeout_s):
                await read_protocol(run, 0.0, self._progress)
                await proc.wait()
        except TimeoutError:
            run.timed_out = True
        except asyncio.CancelledError:
            kill_group(run.pid)
            await proc.wait()
            if activity.is_worker_shutdown():
                # Not the user's cancel: the next worker retries this attempt.
                raise ApplicationError("The job's worker stopped; it runs again.") from None
            log.info("job %s cancelled; its process %d is gone", run.job_id, run.pid)
            raise
        finally:
            kill_group(run.pid)  # the job and anything it left running in its group
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beats
        await proc.wait()

    async def _progress(self, run: Run) -> None:
        activity.heartbeat(_details(run))

    async def _beat(self, run: Run) -> None:
        """Heartbeat while the job is quiet (a long fit): its silence is not a dead worker."""
        while True:
            await asyncio.sleep(self.beat_s)
            activity.heartbeat(_details(run))

    def _load(self) -> None:
        if not self._loaded:
            load_job_modules(self.modules)
            self._loaded = True


def _details(run: Run) -> dict[str, Any]:
    """What the bot reads from the attempt's last heartbeat: progress, message, and the
    number of progress reports so far in this attempt ``a`` (the JOB_PROGRESS event's id, the
    same on every bot that reads it; Temporal shows the last attempt's details to the next)."""
    return {"a": run.attempt, "p": run.progress, "m": run.message, "n": run.seq}
