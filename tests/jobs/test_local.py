"""The local runner end to end: real worker subprocesses, a real SQLite job table."""

from __future__ import annotations

import asyncio
import json

import psutil
import pytest

from statbot.engine.events import EventKind
from statbot.errors import JobError
from statbot.jobs import JobStatus


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def until(predicate, within: float = 10.0) -> None:
    """Poll state outside the loop (files, processes, the recorder)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_submit_reports_progress_then_one_finished_event(make_runner, make_spec, recorder):
    runner = make_runner()
    await runner.start()
    info = await runner.submit(make_spec(n=3, step_s=0.05))
    assert info.status is JobStatus.RUNNING
    assert info.job_id == make_spec(n=3).job_id  # derived from the idempotency key

    async with asyncio.timeout(20):
        done = await runner.wait(info.job_id)
    assert done.status is JobStatus.SUCCEEDED
    assert done.result is not None and done.result["total"] == 3
    assert done.attempts == 1 and done.progress == 1.0 and done.error is None
    assert done.started_at is not None and done.finished_at is not None
    assert await runner.result(info.job_id) == done.result

    await until(lambda: recorder.of(info.job_id, EventKind.JOB_FINISHED))
    progress = recorder.of(info.job_id, EventKind.JOB_PROGRESS)
    assert progress[0].event_id == f"j{info.job_id}:1.0"
    assert progress[0].job is not None and progress[0].job["message"] == "Started"
    messages = [e.job["message"] for e in progress if e.job]
    assert {"step 1 of 3", "step 2 of 3", "step 3 of 3"} <= set(messages)
    fractions = [e.job["progress"] for e in progress if e.job]
    assert fractions == sorted(fractions)
    assert len({e.event_id for e in progress}) == len(progress)  # ids are unique
    assert all(str(e.key) == "console:1:1" for e in progress)
    (finished,) = recorder.of(info.job_id, EventKind.JOB_FINISHED)
    assert finished.event_id == f"j{info.job_id}:done"
    assert finished.job == {
        "job_id": info.job_id,
        "kind": "test.steps",
        "status": "succeeded",
        "result": done.result,
        "error": None,
        "attempts": 1,
    }
    assert finished.text == "Your test run has finished."  # shown if the chat moved on
    assert recorder.events.index(finished) == len(recorder.of(info.job_id)) - 1  # last
    workdir = runner.root / "work" / info.job_id
    assert (workdir / "output.txt").read_text() == "3"
    assert json.loads((workdir / "result.json").read_text()) == done.result
    assert not [p for p in workdir.iterdir() if p.name.endswith(".tmp")]
    log = (workdir / "worker.log").read_text()
    assert "attempt 1 in pid" in log and "Warning" not in log


async def test_duplicate_submit_is_one_job_and_one_process(make_runner, make_spec, tmp_path):
    journal = tmp_path / "journal.jsonl"
    runner = make_runner()
    await runner.start()
    spec = make_spec(n=2, journal=str(journal))
    first, second = await asyncio.gather(runner.submit(spec), runner.submit(spec))
    assert first.job_id == second.job_id
    async with asyncio.timeout(20):
        await runner.wait(first.job_id)
    again = await runner.submit(spec)  # a replayed update long after the job finished
    assert again.status is JobStatus.SUCCEEDED and again.attempts == 1
    await asyncio.sleep(0.3)
    starts = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [s["event"] for s in starts] == ["start", "end"]
    assert len(await runner.list(1)) == 1
    assert (await runner.counts())["succeeded"] == 1


async def test_cancel_kills_the_process_group(make_runner, make_spec, recorder, tmp_path):
    pids_file = tmp_path / "pids"
    runner = make_runner()
    await runner.start()
    info = await runner.submit(make_spec("test.sleep_forever", pids=str(pids_file)))
    await until(lambda: pids_file.exists() and pids_file.read_text().count(" ") == 1)
    worker, grandchild = map(int, pids_file.read_text().split())
    assert not gone(worker) and not gone(grandchild)

    assert await runner.cancel(info.job_id) is True
    status = await runner.status(info.job_id)
    assert status is not None and status.status is JobStatus.CANCELLED
    assert status.error == "The job was cancelled."
    await until(lambda: gone(worker) and gone(grandchild), within=5)
    await until(lambda: recorder.of(info.job_id, EventKind.JOB_FINISHED))
    (finished,) = recorder.of(info.job_id, EventKind.JOB_FINISHED)
    assert finished.job is not None and finished.job["status"] == "cancelled"
    assert await runner.cancel(info.job_id) is False  # already finished
    assert await runner.cancel("no-such-job") is False
    with pytest.raises(JobError) as err:
        await runner.result(info.job_id)
    assert err.value.user_message == "The job was cancelled."


async def test_time_limit_fails_with_a_clear_message(make_runner, make_spec, tmp_path):
    pids_file = tmp_path / "pids"
    runner = make_runner()
    await runner.start()
    spec = make_spec("test.sleep_forever", pids=str(pids_file))
    info = await runner.submit(type(spec)(**{**spec.to_dict(), "timeout_s": 0.8}))
    async with asyncio.timeout(20):
        done = await runner.wait(info.job_id)
    assert done.status is JobStatus.FAILED
    assert done.error == "The job took longer than 0.8 s and was stopped."
    worker, grandchild = map(int, pids_file.read_text().split())
    await until(lambda: gone(worker) and gone(grandchild), within=5)


async def test_memory_limit_fails_with_a_clear_message(make_runner, make_spec):
    runner = make_runner(default_memory_mb=300)
    await runner.start()
    small = await runner.submit(make_spec("test.hog", key="small", mb=20))
    big = await runner.submit(make_spec("test.hog", key="big", user=2, mb=600))
    async with asyncio.timeout(20):
        small_done = await runner.wait(small.job_id)
        big_done = await runner.wait(big.job_id)
    assert small_done.status is JobStatus.SUCCEEDED  # the limit is not "fail everything"
    assert big_done.status is JobStatus.FAILED
    assert big_done.error == "The job needed more than 300 MB of memory and was stopped."


async def test_job_errors_reach_the_user(make_runner, make_spec, recorder):
    runner = make_runner()
    await runner.start()
    bad = await runner.submit(make_spec("test.bad_input", key="bad"))
    bug = await runner.submit(make_spec("test.bug", key="bug", user=2))
    async with asyncio.timeout(20):
        bad_done = await runner.wait(bad.job_id)
        bug_done = await runner.wait(bug.job_id)
    assert bad_done.error == "There is no column named price."
    await until(lambda: recorder.of(bad.job_id, EventKind.JOB_FINISHED))
    (finished,) = recorder.of(bad.job_id, EventKind.JOB_FINISHED)
    assert finished.text == "Test.bad_input job failed. There is no column named price."
    assert bug_done.error == "The job failed: ZeroDivisionError: division by zero"
    log = (runner.root / "work" / bug.job_id / "worker.log").read_text()
    assert "Traceback" in log and "ZeroDivisionError" in log


async def test_submit_refuses_unknown_kinds_and_non_json(make_runner, make_spec):
    runner = make_runner()
    with pytest.raises(JobError):
        await runner.submit(make_spec())  # not started
    await runner.start()
    with pytest.raises(JobError) as err:
        await runner.submit(make_spec("no.such.kind"))
    assert err.value.user_message == "This kind of job is not available."
    with pytest.raises(JobError):
        await runner.submit(make_spec(when=object()))
    with pytest.raises(JobError):
        await runner.submit(make_spec(x=float("nan")))
    assert sum((await runner.counts()).values()) == 0


async def test_concurrency_cap_is_respected(make_runner, make_spec):
    runner = make_runner(concurrency=2)
    await runner.start()
    infos = [
        await runner.submit(make_spec(key=f"c{u}", user=u, n=4, step_s=0.1)) for u in range(1, 5)
    ]
    assert [i.status for i in infos] == [JobStatus.RUNNING] * 2 + [JobStatus.QUEUED] * 2
    assert [i.queue_position for i in infos] == [None, None, 1, 2]
    peak = 0
    async with asyncio.timeout(30):
        while not all(i.finished for i in [await runner.status(j.job_id) for j in infos] if i):
            peak = max(peak, (await runner.counts())["running"])
            await asyncio.sleep(0.02)
    assert peak == 2
    finals = [await runner.status(i.job_id) for i in infos]
    spans = [(r.result["started"], r.result["ended"]) for r in finals if r and r.result]
    assert len(spans) == 4
    overlap = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
    assert overlap == 2


async def test_one_running_job_per_user_and_queue_position(make_runner, make_spec):
    runner = make_runner(concurrency=3)
    await runner.start()
    first = await runner.submit(make_spec(key="a", user=7, n=4, step_s=0.1))
    second = await runner.submit(make_spec(key="b", user=7, n=1))
    other = await runner.submit(make_spec(key="c", user=8, n=1))
    assert first.status is JobStatus.RUNNING
    assert second.status is JobStatus.QUEUED and second.queue_position == 1
    assert other.status is JobStatus.RUNNING  # another user is not held up
    async with asyncio.timeout(30):
        a = await runner.wait(first.job_id)
        b = await runner.wait(second.job_id)
    assert a.result is not None and b.result is not None
    assert b.result["started"] >= a.result["ended"]
    assert [j.job_id for j in await runner.list(7)] == [first.job_id, second.job_id]


async def test_cancel_a_queued_job(make_runner, make_spec, recorder):
    runner = make_runner(concurrency=2)
    await runner.start()
    first = await runner.submit(make_spec(key="a", n=3, step_s=0.1))
    queued = await runner.submit(make_spec(key="b", n=1))
    assert queued.status is JobStatus.QUEUED
    assert await runner.cancel(queued.job_id) is True
    async with asyncio.timeout(20):
        done = await runner.wait(first.job_id)
    assert done.status is JobStatus.SUCCEEDED
    after = await runner.status(queued.job_id)
    assert after is not None and after.status is JobStatus.CANCELLED and after.attempts == 0
    assert not recorder.of(queued.job_id, EventKind.JOB_PROGRESS)
    await until(lambda: recorder.of(queued.job_id, EventKind.JOB_FINISHED))


async def test_delete_user_kills_and_forgets(make_runner, make_spec, recorder, tmp_path):
    pids_file = tmp_path / "pids"
    runner = make_runner()
    await runner.start()
    running = await runner.submit(make_spec("test.sleep_forever", key="x", pids=str(pids_file)))
    await runner.submit(make_spec(key="y", n=1))
    kept = await runner.submit(make_spec(key="z", user=2, n=1))
    await until(lambda: pids_file.exists() and pids_file.read_text().count(" ") == 1)
    worker, grandchild = map(int, pids_file.read_text().split())
    assert await runner.delete_user(1) == 2
    assert await runner.list(1) == []
    assert await runner.status(running.job_id) is None
    assert not (runner.root / "work" / running.job_id).exists()
    await until(lambda: gone(worker) and gone(grandchild), within=5)
    async with asyncio.timeout(20):
        await runner.wait(kept.job_id)
    await asyncio.sleep(0.2)
    assert not recorder.of(running.job_id, EventKind.JOB_FINISHED)


async def test_second_runner_on_the_same_table_is_refused(make_runner):
    first = make_runner()
    await first.start()
    with pytest.raises(JobError):
        await make_runner().start()


def test_event_payload_is_json(make_spec):
    from statbot.jobs import JobInfo

    info = JobInfo("abc", make_spec(), JobStatus.SUCCEEDED, attempts=1, result={"x": 1.5})
    event = info.finished_event()
    assert json.loads(json.dumps(event.to_dict()))["job"]["result"] == {"x": 1.5}
    assert event.event_id == "jabc:done" and event.kind is EventKind.JOB_FINISHED


async def test_heartbeats_are_throttled_but_the_latest_is_sent(make_runner, make_spec, recorder):
    runner = make_runner(progress_interval_s=0.4)
    await runner.start()
    info = await runner.submit(make_spec(n=20, step_s=0.05, key="throttle"))
    async with asyncio.timeout(20):
        await runner.wait(info.job_id)
    await until(lambda: recorder.of(info.job_id, EventKind.JOB_FINISHED))
    progress = recorder.of(info.job_id, EventKind.JOB_PROGRESS)
    assert 2 <= len(progress) <= 6  # 21 heartbeats over ~1 s, at most one per 0.4 s
    assert progress[-1].job is not None and progress[-1].job["message"] == "done"
    assert progress[-1].job["progress"] == 1.0


async def test_a_worker_that_cannot_start_fails_the_job(make_runner, make_spec, tmp_path):
    runner = make_runner(python=str(tmp_path / "no-such-python"))
    await runner.start()
    info = await runner.submit(make_spec(n=1))
    assert info.status is JobStatus.FAILED
    assert info.error == "The job could not be started."


async def test_purge_removes_old_working_directories_but_keeps_the_job(make_runner, make_spec):
    runner = make_runner(retention_s=None)
    await runner.start()
    info = await runner.submit(make_spec(n=1))
    async with asyncio.timeout(20):
        done = await runner.wait(info.job_id)
    workdir = runner.root / "work" / info.job_id
    assert workdir.is_dir()
    assert await runner.purge(done.finished_at - 1) == 0  # not old enough
    assert workdir.is_dir()
    assert await runner.purge(done.finished_at + 1) == 1
    assert not workdir.exists()
    assert (await runner.submit(make_spec(n=1))).status is JobStatus.SUCCEEDED  # still known


async def test_results_are_strict_json(make_runner, make_spec, recorder):
    runner = make_runner()
    await runner.start()
    info = await runner.submit(make_spec("test.loose_json"))
    async with asyncio.timeout(20):
        done = await runner.wait(info.job_id)
    assert done.result == {"nan": None, "inf": None, "pair": [1, 2.5], "ok": 3}
    await until(lambda: recorder.of(info.job_id, EventKind.JOB_FINISHED))
    (finished,) = recorder.of(info.job_id, EventKind.JOB_FINISHED)
    json.dumps(finished.to_dict(), allow_nan=False)  # what a strict store does


async def test_a_failed_start_releases_the_table(make_runner):
    broken = make_runner(modules=("statbot.no_such_job_module",))
    with pytest.raises(ModuleNotFoundError):
        await broken.start()
    fine = make_runner()
    await fine.start()  # the lock of the failed start is not held any more
    assert (await fine.counts())["queued"] == 0


async def test_a_stray_thread_does_not_keep_a_finished_job_alive(make_runner, make_spec):
    runner = make_runner()
    await runner.start()
    spec = make_spec("test.stray_thread")
    info = await runner.submit(type(spec)(**{**spec.to_dict(), "timeout_s": 20}))
    async with asyncio.timeout(10):  # well before the time limit
        done = await runner.wait(info.job_id)
    assert done.status is JobStatus.SUCCEEDED and done.result == {"ok": True}


async def test_finished_jobs_report_their_duration(make_runner, make_spec):
    """For statbot_job_seconds (issue 15): kind, outcome and start-to-end seconds."""
    runner = make_runner()
    seen: list[tuple[str, str, float]] = []
    runner.observe_durations(lambda kind, status, seconds: seen.append((kind, status, seconds)))
    await runner.start()
    info = await runner.submit(make_spec(n=3, step_s=0.1))
    async with asyncio.timeout(20):
        done = await runner.wait(info.job_id)
    assert len(seen) == 1
    kind, status, seconds = seen[0]
    assert (kind, status) == ("test.steps", "succeeded")
    assert done.started_at is not None and done.finished_at is not None
    assert seconds == pytest.approx(done.finished_at - done.started_at) and seconds >= 0.2
