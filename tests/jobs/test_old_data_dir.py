"""A data dir from before the catalog held the jobs (issue 12): the runner that starts on it
imports the old job file and carries on — a finished job not yet told to its conversation is
told once, a queued one runs, the running one resumes."""

from __future__ import annotations

import asyncio
import json
import sqlite3

from tests.access.test_legacy import OLD_SCHEMA

from statbot.access.legacy import JOBS_FILE
from statbot.engine.events import EventKind
from statbot.jobs.base import JobStatus


async def test_the_runner_carries_on_with_an_old_job_file(
    tmp_path, make_runner, make_spec, recorder
):
    finished, queued, running = (make_spec(n=1, key=k) for k in ("f", "q", "r"))
    path = tmp_path / JOBS_FILE
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    for spec, status, result in (
        (finished, "succeeded", {"total": 0}),
        (queued, "queued", None),
        (running, "running", None),
    ):
        db.execute(
            "INSERT INTO jobs (job_id, user_id, spec, status, attempts, result, created_at, "
            "finished_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            (spec.job_id, spec.user_id, json.dumps(spec.to_dict()), status,
             0 if status == "queued" else 1, json.dumps(result) if result else None,
             2.0 if result else None),
        )  # fmt: skip
    db.commit()
    db.close()

    runner = make_runner()
    await runner.start()
    async with asyncio.timeout(60):
        for spec in (queued, running):
            done = await runner.wait(spec.job_id)
            assert done.status is JobStatus.SUCCEEDED, done.error
        while not recorder.of(finished.job_id, EventKind.JOB_FINISHED):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    (told,) = recorder.of(finished.job_id, EventKind.JOB_FINISHED)
    assert told.job is not None and told.job["result"] == {"total": 0}
    assert (await runner.status(running.job_id)).attempts == 2  # type: ignore[union-attr]
    assert not path.exists() and path.with_name("jobs.sqlite3.imported").exists()
