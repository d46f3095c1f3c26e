"""Crash, restart and redelivery: the job table makes jobs outlive the process that ran them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

import psutil

from statbot.engine.events import EventKind
from statbot.jobs import JobStatus

HOST = str(Path(__file__).with_name("host.py"))


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def until(predicate, within: float = 15.0) -> None:
    """Poll state outside the loop (files, processes, the recorder)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_sigkill_of_the_bot_mid_job_resumes_and_completes_once(
    tmp_path, make_runner, make_spec, recorder, kinds_path
):
    data_dir, events_file, journal = tmp_path / "data", tmp_path / "events.jsonl", tmp_path / "j"
    spec = make_spec(key="u42", n=30, step_s=0.05, journal=str(journal))
    args = [str(data_dir), str(events_file), kinds_path, json.dumps(spec.to_dict())]
    # A real bot-like process hosting the runner.
    host = await asyncio.create_subprocess_exec(sys.executable, HOST, *args)

    def mid_job() -> bool:  # the worker has started and reported a few steps
        return any("step 3 of" in (e["job"] or {}).get("message", "") for e in lines(events_file))

    try:
        await until(mid_job)
        host.send_signal(signal.SIGKILL)
    finally:
        if host.returncode is None:
            host.kill()
        await host.wait()
    (first_start,) = lines(journal)
    await until(lambda: gone(first_start["pid"]), within=5)  # the orphan died with the bot
    assert not any(e["kind"] == "job_finished" for e in lines(events_file))

    runner = make_runner(data_dir=data_dir)
    await runner.start()
    async with asyncio.timeout(30):
        done = await runner.wait(spec.job_id)
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 2
    assert done.result is not None and done.result["total"] == sum(range(30))

    progress = recorder.of(spec.job_id, EventKind.JOB_PROGRESS)
    assert progress[0].event_id == f"j{spec.job_id}:2.0"
    assert progress[0].job is not None and progress[0].job["resumed"] is True
    assert progress[0].job["message"] == "Resumed after a restart (attempt 2)"
    host_ids = {e["event_id"] for e in lines(events_file)}
    assert not host_ids & {e.event_id for e in progress}  # no id reused for different news
    await until(lambda: recorder.of(spec.job_id, EventKind.JOB_FINISHED))
    finished_ids = [e.event_id for e in recorder.of(spec.job_id, EventKind.JOB_FINISHED)]
    assert finished_ids == [f"j{spec.job_id}:done"]
    runs = lines(journal)
    assert [r["event"] for r in runs] == ["start", "start", "end"]  # completed exactly once
    workdir = data_dir / "jobs" / "work" / spec.job_id
    assert sorted(p.name for p in workdir.iterdir()) == [
        "output.txt", "result.json", "task.json", "worker.log"
    ]  # fmt: skip


async def test_clean_stop_requeues_and_the_next_start_resumes(make_runner, make_spec, recorder):
    runner = make_runner()
    await runner.start()
    info = await runner.submit(make_spec(n=40, step_s=0.05))
    await until(lambda: len(recorder.of(info.job_id, EventKind.JOB_PROGRESS)) >= 3)
    await runner.stop()
    stopped = await _peek(runner.root, info.job_id)
    assert stopped == ("queued", 1, 0)  # requeued, not counted as a crash

    again = make_runner()
    await again.start()
    async with asyncio.timeout(30):
        done = await again.wait(info.job_id)
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 2
    resumed = [e for e in recorder.of(info.job_id) if e.job and e.job.get("resumed")]
    assert [e.event_id for e in resumed] == [f"j{info.job_id}:2.0"]


async def test_undelivered_finished_event_is_emitted_again_after_restart(
    make_runner, make_spec, recorder
):
    recorder.fail_finished = 1_000  # the engine is down: nothing gets through
    runner = make_runner(tick_s=60, redeliver_s=60)
    await runner.start()
    info = await runner.submit(make_spec(n=1))
    async with asyncio.timeout(20):
        await runner.wait(info.job_id)
    await runner.stop()
    assert not recorder.of(info.job_id, EventKind.JOB_FINISHED)

    recorder.fail_finished = 0
    again = make_runner()
    await again.start()
    await until(lambda: recorder.of(info.job_id, EventKind.JOB_FINISHED))
    (event,) = recorder.of(info.job_id, EventKind.JOB_FINISHED)
    assert event.event_id == f"j{info.job_id}:done"
    assert event.job is not None and event.job["status"] == "succeeded"
    await again.stop()
    third = make_runner()  # delivered now: not emitted a second time
    await third.start()
    await asyncio.sleep(0.3)
    assert len(recorder.of(info.job_id, EventKind.JOB_FINISHED)) == 1


async def test_failed_delivery_is_retried_while_running(make_runner, make_spec, recorder):
    recorder.fail_finished = 2
    runner = make_runner(tick_s=0.1)
    await runner.start()
    info = await runner.submit(make_spec(n=1))
    await until(lambda: recorder.of(info.job_id, EventKind.JOB_FINISHED))
    await asyncio.sleep(0.3)
    assert len(recorder.of(info.job_id, EventKind.JOB_FINISHED)) == 1
    assert recorder.fail_finished == 0


async def test_a_run_that_finished_before_the_crash_is_not_run_again(
    make_runner, make_spec, recorder, tmp_path
):
    journal = tmp_path / "journal"
    runner = make_runner()
    await runner.start()
    info = await runner.submit(make_spec(n=1, journal=str(journal)))
    async with asyncio.timeout(20):
        await runner.wait(info.job_id)
    await runner.stop()
    # The crash window: the worker wrote result.json, the runner died before recording it.
    _sql(runner.root, "UPDATE jobs SET status='running', result=NULL, delivered=0")

    again = make_runner()
    await again.start()
    async with asyncio.timeout(20):
        done = await again.wait(info.job_id)
    assert done.status is JobStatus.SUCCEEDED and done.result is not None
    assert [r["event"] for r in lines(journal)] == ["start", "end"]


async def test_a_job_that_keeps_crashing_the_bot_is_given_up(make_runner, make_spec, recorder):
    runner = make_runner(concurrency=1)
    await runner.start()
    blocker = await runner.submit(make_spec(key="blocker", n=200, step_s=0.05))
    info = await runner.submit(make_spec(key="victim", user=2, n=1))
    await runner.stop()
    _sql(runner.root, f"UPDATE jobs SET status='running', crashes=2 WHERE job_id='{info.job_id}'")

    again = make_runner(max_crashes=3)
    await again.start()
    done = await again.status(info.job_id)
    assert done is not None and done.status is JobStatus.FAILED
    assert done.error == "The job was interrupted 3 times and was not retried again."
    await again.cancel(blocker.job_id)


async def _peek(root: Path, job_id: str) -> tuple[str, int, int]:
    with sqlite3.connect(root.parent / "catalog.sqlite") as db:
        row = db.execute(
            "SELECT status, attempts, crashes FROM jobs WHERE job_id = ?", (job_id,)
        ).fetchone()
    db.close()
    return tuple(row)


def _sql(root: Path, statement: str) -> None:
    db = sqlite3.connect(root.parent / "catalog.sqlite")
    with db:
        db.execute(statement)
    db.close()
    assert os.path.exists(root.parent / "catalog.sqlite")
