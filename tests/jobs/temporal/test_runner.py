"""The Temporal job runner against a real dev server: the JobRunner contract on workflows."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import psutil
import pytest
from temporalio.client import WorkflowExecutionStatus
from tests.jobs.conftest import spec
from tests.jobs.temporal.conftest import finished_events

from statbot.engine.events import EventKind
from statbot.jobs import JobStatus


def journal_of(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def until(predicate, seconds: float = 30.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.1)


async def test_a_job_runs_to_succeeded_with_progress_events(make_temporal, recorder) -> None:
    runner = make_temporal()
    await runner.start()
    job = spec(n=4, step_s=0.4, key="ok")
    info = await runner.submit(job)
    assert info.job_id == job.job_id and info.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    [done] = await finished_events(recorder, job.job_id)
    assert done.event_id == f"j{job.job_id}:done"
    assert done.job is not None and done.job["status"] == "succeeded"
    assert done.job["result"]["total"] == 6 and done.job["attempts"] == 1
    progress = recorder.of(job.job_id, EventKind.JOB_PROGRESS)
    assert progress[0].event_id == f"j{job.job_id}:1.0"
    assert progress[0].job is not None and progress[0].job["message"] == "Started"
    assert len(progress) >= 3, [e.job for e in progress]  # the bar moved while it ran
    fractions = [float(e.job["progress"]) for e in progress if e.job]
    assert fractions == sorted(fractions) and fractions[-1] > 0
    assert len({e.event_id for e in progress}) == len(progress)
    assert recorder.events.index(done) == len(recorder.events) - 1  # nothing after the end
    # The engine took it: the workflow closes, completed; the job reads succeeded.
    handle = runner.client.get_workflow_handle(runner.scope.workflow_id(job.job_id))

    async def closed() -> bool:
        return (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED

    await until(closed, what="the workflow to close after delivery")
    now = await runner.status(job.job_id)
    assert now is not None and now.status is JobStatus.SUCCEEDED
    assert now.result == done.job["result"]
    assert await runner.cancel(job.job_id) is False  # finished: nothing to cancel


async def test_a_duplicate_submit_starts_no_second_workflow(make_temporal, recorder, tmp_path):
    runner = make_temporal()
    await runner.start()
    journal = tmp_path / "journal.jsonl"
    job = spec(n=3, step_s=0.3, key="press", journal=str(journal))
    first, second = await asyncio.gather(runner.submit(job), runner.submit(job))
    assert first.job_id == second.job_id == job.job_id
    await finished_events(recorder, job.job_id)
    again = await runner.submit(job)  # after it finished: the same job, still not a new one
    assert again.job_id == job.job_id and again.status is JobStatus.SUCCEEDED
    await asyncio.sleep(0.5)
    assert [e["event"] for e in journal_of(journal)] == ["start", "end"]
    query = f"{runner.scope.jobs_query} AND WorkflowId='{runner.scope.workflow_id(job.job_id)}'"
    runs = [w async for w in runner.client.list_workflows(query)]
    assert len(runs) == 1
    assert len(recorder.of(job.job_id, EventKind.JOB_FINISHED)) == 1


async def test_cancel_stops_the_jobs_process(make_temporal, recorder, tmp_path) -> None:
    runner = make_temporal()
    await runner.start()
    pids_file = tmp_path / "pids"
    job = spec("test.sleep_forever", key="cancel", pids=str(pids_file))
    await runner.submit(job)

    async def started() -> bool:
        return pids_file.exists() and bool(pids_file.read_text())

    await until(started, what="the job's process to start")
    pids = [int(p) for p in pids_file.read_text().split()]
    assert await runner.cancel(job.job_id) is True
    [done] = await finished_events(recorder, job.job_id)
    assert done.job is not None and done.job["status"] == "cancelled"
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    info = await runner.status(job.job_id)
    assert info is not None and info.status is JobStatus.CANCELLED
    assert await runner.cancel(job.job_id) is False


async def test_bad_input_fails_the_job_without_a_retry(make_temporal, recorder) -> None:
    runner = make_temporal()
    await runner.start()
    job = spec("test.bad_input", key="bad")
    await runner.submit(job)
    [done] = await finished_events(recorder, job.job_id)
    assert done.job is not None and done.job["status"] == "failed"
    assert done.job["error"] == "There is no column named price."
    assert done.job["attempts"] == 1
    assert "failed. There is no column named price." in done.text


async def test_a_worker_killed_mid_training_is_retried_and_finishes_once(
    make_temporal, recorder, workers, tmp_path
) -> None:
    runner = make_temporal(worker=False, heartbeat_timeout_s=2)
    await runner.start()
    first = workers.start()
    journal = tmp_path / "journal.jsonl"
    job = spec(n=8, step_s=0.4, key="crash", journal=str(journal))
    await runner.submit(job)

    async def midway() -> bool:
        progress = recorder.of(job.job_id, EventKind.JOB_PROGRESS)
        return any(float(e.job["progress"]) >= 0.25 for e in progress if e.job)

    await until(midway, seconds=60, what="the first attempt to be under way")
    workers.kill(first)  # SIGKILL: the worker and its job's process die mid-activity
    job_pid = int(journal_of(journal)[0]["pid"])  # type: ignore[arg-type]
    await asyncio.sleep(0.3)
    assert not psutil.pid_exists(job_pid) or psutil.Process(job_pid).status() == "zombie"
    workers.start()
    [done] = await finished_events(recorder, job.job_id, seconds=90)
    assert done.job is not None and done.job["status"] == "succeeded"
    assert done.job["attempts"] == 2
    events = [e["event"] for e in journal_of(journal)]
    assert events == ["start", "start", "end"]  # retried once, finished once
    resumed = [e for e in recorder.of(job.job_id, EventKind.JOB_PROGRESS) if e.job["resumed"]]
    assert resumed and resumed[0].event_id == f"j{job.job_id}:2.0"
    assert "Resumed" in resumed[0].job["message"]


async def test_a_restarted_bot_announces_a_job_that_ended_while_it_was_down(
    make_temporal, recorder, workers
) -> None:
    workers.start()
    bot = make_temporal(worker=False)
    await bot.start()
    job = spec(n=3, step_s=0.5, key="restart")
    await bot.submit(job)
    await bot.stop()  # the job goes on in the worker; its outcome waits in the workflow
    await asyncio.sleep(3)
    assert not recorder.of(job.job_id, EventKind.JOB_FINISHED)
    again = make_temporal(worker=False)
    await again.start()
    [done] = await finished_events(recorder, job.job_id)
    assert done.job is not None and done.job["status"] == "succeeded"


async def test_forget_deletes_the_users_workflows_and_folders(make_temporal, recorder):
    runner = make_temporal(concurrency=2)
    await runner.start()
    short = spec(n=1, step_s=0.01, key="f1", user=7)
    await runner.submit(short)
    await finished_events(recorder, short.job_id)
    running = spec("test.steps", key="f2", user=7, n=100, step_s=0.5)
    other = spec(n=1, step_s=0.01, key="f3", user=8)
    await runner.submit(running)
    await runner.submit(other)
    await finished_events(recorder, other.job_id)
    assert (runner.data_dir / "jobs" / "temporal" / short.job_id).is_dir()
    assert await runner.delete_user(7) == 2
    before = len(recorder.events)
    assert not (runner.data_dir / "jobs" / "temporal" / short.job_id).exists()

    async def gone() -> bool:  # Temporal deletes in the background
        return (
            await runner.status(short.job_id) is None
            and await runner.status(running.job_id) is None
        )

    await until(gone, seconds=60, what="Temporal to delete the user's workflows")
    assert await runner.list(7) == []
    assert [i.job_id for i in await runner.list(8)] == [other.job_id]
    assert not [e for e in recorder.events[before:] if e.job["job_id"] == running.job_id]


async def test_counts_by_status(make_temporal, recorder) -> None:
    runner = make_temporal()
    await runner.start()
    ok, bad = spec(n=1, step_s=0.01, key="c1"), spec("test.bad_input", key="c2")
    await runner.submit(ok)
    await runner.submit(bad)
    await finished_events(recorder, ok.job_id)
    await finished_events(recorder, bad.job_id)

    async def counted() -> bool:
        counts = await runner.counts()
        return counts["succeeded"] == 1 and counts["failed"] == 1

    await until(counted, what="visibility to count both jobs")
    assert set(await runner.counts()) == {s.value for s in JobStatus}


def test_the_heartbeat_timeout_comes_from_the_settings(tmp_path, monkeypatch) -> None:
    """STATBOT_TEMPORAL_HEARTBEAT_SECONDS: how long a dead worker's job waits before Temporal
    retries it elsewhere (the training drill sets it short, tests/scale/)."""
    from statbot.config import load_settings
    from statbot.errors import ConfigError
    from statbot.jobs.temporal.runner import TemporalJobRunner

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATBOT_TEMPORAL_HEARTBEAT_SECONDS", "6")
    runner = TemporalJobRunner.from_settings(load_settings(), emit=_ignore)
    assert runner.heartbeat_timeout_s == 6.0
    monkeypatch.setenv("STATBOT_TEMPORAL_HEARTBEAT_SECONDS", "1")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.setting == "STATBOT_TEMPORAL_HEARTBEAT_SECONDS"


async def _ignore(event: object) -> bool:
    return True


async def test_a_result_an_earlier_attempt_left_is_the_result_and_nothing_runs_again(
    make_temporal, recorder, tmp_path
) -> None:
    """The window the worker drill (tests/scale/) cannot aim at: an attempt's job wrote its
    ``result.json``, then its worker died before Temporal heard of it. The next attempt
    returns that result and does not run the job again (jobs/temporal/activity.py)."""
    from statbot.jobs.temporal.worker import jobs_root
    from statbot.jobs.worker import write_json_atomic

    runner = make_temporal()
    journal = tmp_path / "journal.jsonl"
    job = spec(n=3, step_s=0.1, key="left-behind", journal=str(journal))
    folder = jobs_root(tmp_path / "var") / job.job_id
    folder.mkdir(parents=True)
    earlier = {"total": 3, "started": 1.0, "ended": 2.0, "pid": 1}
    write_json_atomic(folder / "result.json", earlier)
    await runner.start()
    await runner.submit(job)
    [done] = await finished_events(recorder, job.job_id)
    assert done.job is not None and done.job["status"] == "succeeded"
    assert done.job["result"] == earlier
    assert not journal.exists(), journal.read_text()  # the job's function never started
