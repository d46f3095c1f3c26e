"""What the local runner does at start about the run before it: crashed jobs, lost news.

A job found ``running`` in the table was interrupted by a crash (a clean stop requeues its jobs
instead): its stale process, if any, is killed and the job is queued again — jobs are
idempotent, same key → same outputs — unless it has now been interrupted ``max_crashes`` times
without leaving a result, which fails it. ``JOB_FINISHED`` events the engine never accepted are
offered again, with the same event ids, so the engine dedupes the ones that did land.
"""

from __future__ import annotations

import asyncio
import logging

from statbot.jobs.base import JobStatus
from statbot.jobs.launch import Launcher, workdir
from statbot.jobs.notify import JobEvents
from statbot.jobs.process import kill_stale
from statbot.jobs.table_thread import TableThread
from statbot.jobs.worker import RESULT_FILE

# The runner's logger, as before these modules were split out of it (log filters keep working).
log = logging.getLogger("statbot.jobs.local")


async def recover(db: TableThread, launcher: Launcher, *, max_crashes: int) -> None:
    """Requeue (or, past ``max_crashes``, fail) every job a crash left ``running``."""
    table = db.table
    for row in await db.run(table.with_status, JobStatus.RUNNING):
        job_id = row.info.job_id
        if row.pid is not None:
            await asyncio.to_thread(kill_stale, row.pid, row.pid_started)
        await db.run(table.requeue, job_id, crashed=True)
        if row.crashes + 1 >= max_crashes and not (workdir(db.root, job_id) / RESULT_FILE).exists():
            error = f"The job was interrupted {row.crashes + 1} times and was not retried again."
            await launcher.finish(job_id, JobStatus.FAILED, None, error)
        else:
            log.warning("job %s was running when the runner died; it will resume", job_id)


async def redeliver(db: TableThread, events: JobEvents) -> None:
    """Queue again every ``JOB_FINISHED`` not yet accepted by ``emit`` (also run on a tick)."""
    for row in await db.run(db.table.undelivered):
        events.finished(row.info)
