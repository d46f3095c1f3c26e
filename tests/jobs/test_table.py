"""The job table on the catalog database, on SQLite and PostgreSQL (issue 12): an id is inserted
once, the queue keeps its order and positions, and the status changes that race are
conditional on the status they expect."""

from __future__ import annotations

from statbot.access.catalog import Catalog
from statbot.jobs.base import JobSpec, JobStatus
from statbot.jobs.table import JobTable


def _spec(key: str, user: int = 1) -> JobSpec:
    return JobSpec(
        kind="test.steps", key=f"console:{user}:{user}", user_id=user, idempotency_key=key
    )


def test_insert_is_idempotent_and_the_queue_keeps_its_order(catalog: Catalog) -> None:
    table = JobTable(catalog)
    a, created = table.insert(_spec("a"))
    assert created and a.info.status is JobStatus.QUEUED and a.info.queue_position == 1
    again, created = table.insert(_spec("a"))
    assert not created and again.seq == a.seq
    b, _ = table.insert(_spec("b", user=2))
    c, _ = table.insert(_spec("c"))
    queue = table.with_status(JobStatus.QUEUED)
    assert [r.info.job_id for r in queue] == [a.info.job_id, b.info.job_id, c.info.job_id]
    assert [r.info.queue_position for r in queue] == [1, 2, 3]
    assert table.get(c.info.job_id).info.queue_position == 3  # type: ignore[union-attr]
    assert [r.info.job_id for r in table.for_user(1)] == [a.info.job_id, c.info.job_id]
    assert table.counts()["queued"] == 3


def test_running_finishing_and_the_races(catalog: Catalog) -> None:
    table = JobTable(catalog)
    row, _ = table.insert(_spec("a"))
    job_id = row.info.job_id
    running = table.mark_running(job_id, "started")
    assert running is not None and running.info.attempts == 1
    assert table.mark_running(job_id, "again") is None  # no longer queued
    table.set_pid(job_id, 4242, 12.5)
    table.set_progress(job_id, 0.5, "half")
    now = table.get(job_id)
    assert now is not None and now.pid == 4242 and now.info.progress == 0.5
    table.requeue(job_id, crashed=True)
    requeued = table.get(job_id)
    assert requeued is not None and requeued.resume and requeued.crashes == 1
    assert requeued.pid is None and requeued.info.status is JobStatus.QUEUED
    table.mark_running(job_id, "resumed")
    cancelled = table.finish(job_id, JobStatus.CANCELLED, error="cancelled")
    assert cancelled is not None and cancelled.info.status is JobStatus.CANCELLED
    # The worker's success arrives after the cancel: it must not overwrite it.
    assert table.finish(job_id, JobStatus.SUCCEEDED, result={"x": 1}) is None
    assert [r.info.job_id for r in table.undelivered()] == [job_id]
    table.mark_delivered(job_id)
    assert table.undelivered() == []
    done = table.get(job_id)
    assert done is not None and done.info.finished_at is not None
    assert table.finished_between(0, done.info.finished_at + 1) == [job_id]
    assert table.finished_between(0, done.info.finished_at) == []
    table.delete([job_id])
    assert table.get(job_id) is None


def test_a_result_round_trips(catalog: Catalog) -> None:
    table = JobTable(catalog)
    row, _ = table.insert(_spec("a"))
    table.mark_running(row.info.job_id, "started")
    done = table.finish(row.info.job_id, JobStatus.SUCCEEDED, result={"model_id": "m", "r2": 0.1})
    assert done is not None and done.info.result == {"model_id": "m", "r2": 0.1}
    assert done.info.progress == 1.0 and done.info.spec == _spec("a")
