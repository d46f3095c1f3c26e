"""The Temporal runner at scale (issue 14): a tick's cost does not grow with the jobs waiting,
deployments sharing a namespace keep apart, and replicas watching one job announce it with
one event id."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from temporalio.client import (
    Client,
    DescribeWorkflowInput,
    Interceptor,
    ListWorkflowsInput,
    OutboundInterceptor,
    QueryWorkflowInput,
    WorkflowExecutionAsyncIterator,
    WorkflowExecutionDescription,
)
from tests.jobs.conftest import Recorder, spec
from tests.jobs.temporal.conftest import finished_events
from tests.support.temporal import task_queue

from statbot.engine.events import Event, EventKind
from statbot.jobs import JobStatus
from statbot.jobs.temporal.scope import Scope


class Calls(Interceptor):
    """Counts the client's calls to the server, by kind (the runner's own client)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Counting(next, self.counts)


class _Counting(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, counts: Counter[str]) -> None:
        super().__init__(next)
        self.counts = counts

    def list_workflows(self, input: ListWorkflowsInput) -> WorkflowExecutionAsyncIterator:
        self.counts["list"] += 1
        return super().list_workflows(input)

    async def describe_workflow(self, input: DescribeWorkflowInput) -> WorkflowExecutionDescription:
        self.counts["describe"] += 1
        return await super().describe_workflow(input)

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        self.counts["query"] += 1
        return await super().query_workflow(input)


async def until(predicate: Any, seconds: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


def test_a_deployment_defaults_to_its_task_queue_and_owns_only_its_ids() -> None:
    scope = Scope("statbot-jobs")
    assert scope.deployment == "statbot-jobs"
    assert scope.workflow_id("3fa2") == "statbot-jobs/3fa2"
    assert scope.job_id("statbot-jobs/3fa2") == "3fa2"
    assert scope.job_id("other/3fa2") is None and scope.job_id("3fa2") is None
    assert Scope("q", "blue").workflow_id("3fa2") == "blue/3fa2"
    assert "STARTS_WITH 'blue/'" in Scope("q", "blue").running_query


async def test_a_tick_costs_one_list_and_a_bounded_number_of_describes(
    make_temporal, recorder, temporal_server
) -> None:
    """Twelve users wait, one job runs (one slot), eleven are queued: a tick is one list and
    at most three describes, and the running job's bar still moves every tick."""
    calls = Calls()
    client = await Client.connect(temporal_server.address, interceptors=[calls])
    runner = make_temporal(client=client, concurrency=1, max_describes=3)
    await runner.start()
    running = spec(n=40, step_s=0.15, key="runs", user=1)
    await runner.submit(running)

    async def under_way() -> bool:
        return bool(recorder.of(running.job_id, EventKind.JOB_PROGRESS))

    await until(under_way, what="the first job to start")
    queued = [spec(n=1, step_s=0.01, key=f"waits-{u}", user=u) for u in range(2, 13)]
    for job in queued:
        await runner.submit(job)
    assert (await runner.status(queued[-1].job_id)).status is JobStatus.QUEUED  # type: ignore[union-attr]
    before, seen = Counter(calls.counts), len(recorder.of(running.job_id, EventKind.JOB_PROGRESS))
    await asyncio.sleep(3.0)
    spent = calls.counts - before
    assert spent["list"] >= 10, spent  # it ticked (every 0.1 s)
    assert spent["describe"] <= 3 * spent["list"], spent  # not one per job waiting (12)
    assert spent["query"] == 0, spent
    moved = recorder.of(running.job_id, EventKind.JOB_PROGRESS)[seen:]
    assert len(moved) >= 2, [e.job for e in moved]  # its heartbeats still reach the chat
    for user in range(1, 13):
        await runner.delete_user(user)


async def test_two_deployments_on_one_namespace_do_not_see_each_others_jobs(
    make_temporal, recorder, tmp_path: Path
) -> None:
    """The same press (the same idempotency key, so the same job id) in two bots sharing a
    namespace: each bot starts and announces its own job, lists and counts only its own, and
    /forget in one leaves the other's alone."""
    blue_events, green_events = recorder, Recorder()
    blue = make_temporal(deployment="blue-" + task_queue(), data_dir=tmp_path / "blue")
    green = make_temporal(
        deployment="green-" + task_queue(),
        task_queue=task_queue(),
        emit=green_events,
        data_dir=tmp_path / "green",
    )
    await blue.start()
    await green.start()
    journal = tmp_path / "journal.jsonl"
    job = spec(n=2, step_s=0.2, key="same-press", user=5, journal=str(journal))
    first, second = await asyncio.gather(blue.submit(job), green.submit(job))
    assert first.job_id == second.job_id == job.job_id
    [blue_done] = await finished_events(blue_events, job.job_id)
    [green_done] = await finished_events(green_events, job.job_id)
    assert blue_done.job["status"] == green_done.job["status"] == "succeeded"  # type: ignore[index]
    runs = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
    assert runs.count("start") == 2  # one run in each deployment, not one shared
    assert len(blue_events.of(job.job_id, EventKind.JOB_FINISHED)) == 1
    assert [i.job_id for i in await blue.list(5)] == [job.job_id]

    async def counted() -> bool:
        return (await blue.counts())["succeeded"] == 1 and (await green.counts())["succeeded"] == 1

    await until(counted, what="visibility to count one job in each deployment")
    assert await blue.delete_user(5) == 1

    async def blue_gone() -> bool:
        return await blue.status(job.job_id) is None

    await until(blue_gone, seconds=60, what="Temporal to delete blue's workflow")
    still = await green.status(job.job_id)
    assert still is not None and still.status is JobStatus.SUCCEEDED
    assert [i.job_id for i in await green.list(5)] == [job.job_id]


async def test_two_replicas_watching_one_job_announce_it_with_one_event_id(
    make_temporal, recorder
) -> None:
    """Replica A submits and runs the job; replica B (no worker) only shares the task queue.
    B follows the job too (it would announce it if A died), and both emit the same
    JOB_FINISHED: same event id, same content, so the engine applies it once."""
    a_events, b_events = recorder, Recorder()
    job = spec(n=3, step_s=0.3, key="replicas", user=3)

    async def a_emit(event: Event) -> bool:
        # A holds its JOB_FINISHED until B has said it too: the workflow cannot close
        # before both replicas saw its outcome, so the test sees both announcements.
        if event.kind is EventKind.JOB_FINISHED:

            async def b_has_it() -> bool:
                return bool(b_events.of(job.job_id, EventKind.JOB_FINISHED))

            await until(b_has_it, seconds=30, what="replica B to announce the job")
        return await a_events(event)

    a = make_temporal(emit=a_emit)
    b = make_temporal(emit=b_events, worker=False)
    await a.start()
    await b.start()
    await a.submit(job)
    [from_a] = await finished_events(a_events, job.job_id)
    [from_b] = b_events.of(job.job_id, EventKind.JOB_FINISHED)
    assert from_a.event_id == from_b.event_id == f"j{job.job_id}:done"
    assert from_a.key == from_b.key and from_a.job == from_b.job and from_a.text == from_b.text
    assert not b_events.of(job.job_id, EventKind.JOB_PROGRESS)  # progress is the submitter's
    assert a_events.of(job.job_id, EventKind.JOB_PROGRESS)

    async def closed() -> bool:
        info = await b.status(job.job_id)
        return info is not None and info.finished_at is not None

    await until(closed, what="the workflow to close once the outcome was delivered")
    await asyncio.sleep(0.5)  # a few more ticks: nobody announces it again
    assert len(a_events.of(job.job_id, EventKind.JOB_FINISHED)) == 1
    assert len(b_events.of(job.job_id, EventKind.JOB_FINISHED)) == 1
