"""The runner wired to the real StateManager (``emit=manager.submit``), as the app wires it:
job events travel the same path as a user's message and are deduped by the engine."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from types import SimpleNamespace

from statbot.engine import (
    Context,
    ConversationKey,
    Event,
    EventKind,
    OutboxItem,
    State,
    StateManager,
    Workflow,
    WorkflowRegistry,
)
from statbot.engine.stores.memory import MemoryStore
from statbot.jobs import JobSpec, JobStatus
from statbot.jobs.local import LocalJobRunner

KEY = ConversationKey("test", 9, 9)
JOB_EVENTS = frozenset({EventKind.JOB_PROGRESS, EventKind.JOB_FINISHED})


async def _go(ctx: Context) -> None:
    spec = JobSpec(
        kind="test.steps",
        key=str(ctx.session.key),
        user_id=ctx.session.user_id,
        idempotency_key=f"work:{ctx.event.event_id}",
        payload={"n": 3, "step_s": 0.05},
    )
    info = await ctx.services.jobs.submit(spec)
    ctx.data["job_id"] = info.job_id
    ctx.reply(f"job {info.status.value}")
    ctx.goto("waiting")


async def _job(ctx: Context) -> None:
    job = ctx.event.job or {}
    if job.get("job_id") != ctx.data.get("job_id"):
        return
    if ctx.event.kind is EventKind.JOB_PROGRESS:
        ctx.reply(f"progress {job['progress']:.2f} {job['message']}")
    else:
        ctx.reply(f"finished {job['status']} total={job['result']['total']}")
        ctx.goto("done")


def work() -> Workflow:
    return Workflow(
        name="work",
        command="work",
        description="runs a job",
        start="confirm",
        states=(
            State("confirm", prompt="Type go.", on_event=_go, next=("waiting",)),
            State("waiting", on_event=_job, accepts=JOB_EVENTS, next=("done",)),
            State("done", prompt="All done.", final=True),
        ),
    )


class Outbox:
    def __init__(self) -> None:
        self.sent: dict[str, list[str]] = defaultdict(list)

    async def __call__(self, key: str, items: list[OutboxItem]) -> list[int]:
        self.sent[key].extend(i.reply.text for i in items)
        return [i.seq for i in items]


async def test_job_events_reach_the_workflow_once(tmp_path, kinds_path):
    outbox = Outbox()
    services = SimpleNamespace(jobs=None)
    manager = StateManager(MemoryStore(), WorkflowRegistry([work()]), services=services)
    manager.set_deliverer(outbox)
    runner = LocalJobRunner(
        tmp_path, emit=manager.submit, modules=(kinds_path,), progress_interval_s=0
    )
    services.jobs = runner
    async with manager:
        await runner.start()
        try:
            await manager.submit(Event.from_update(KEY, 1, EventKind.COMMAND, text="work"))
            await manager.submit(Event.from_update(KEY, 2, EventKind.TEXT, text="go"))
            await manager.drain()
            (job,) = await runner.list(9)
            async with asyncio.timeout(20):
                done = await runner.wait(job.job_id)
                while "finished succeeded total=3" not in outbox.sent[str(KEY)]:
                    await manager.drain()
                    await asyncio.sleep(0.02)
            assert done.status is JobStatus.SUCCEEDED
            # A runner that crashed before recording the delivery emits the same event again.
            await manager.submit(done.finished_event())
            await manager.drain()
        finally:
            await runner.stop()
    sent = outbox.sent[str(KEY)]
    assert sent[:2] == ["Type go.", "job running"]
    assert sent.count("finished succeeded total=3") == 1
    assert sent[-1] == "All done."
    progress = [s for s in sent if s.startswith("progress")]
    assert progress[0] == "progress 0.00 Started"
    assert "progress 1.00 done" in progress


async def test_a_job_that_ends_after_the_user_moved_on_is_still_reported(tmp_path, kinds_path):
    outbox = Outbox()
    services = SimpleNamespace(jobs=None)
    manager = StateManager(MemoryStore(), WorkflowRegistry([work()]), services=services)
    manager.set_deliverer(outbox)
    runner = LocalJobRunner(tmp_path, emit=manager.submit, modules=(kinds_path,))
    services.jobs = runner
    async with manager:
        await runner.start()
        try:
            await manager.submit(Event.from_update(KEY, 1, EventKind.COMMAND, text="work"))
            await manager.submit(Event.from_update(KEY, 2, EventKind.TEXT, text="go"))
            await manager.submit(Event.from_update(KEY, 3, EventKind.COMMAND, text="cancel"))
            await manager.drain()
            (job,) = await runner.list(9)
            async with asyncio.timeout(20):
                await runner.wait(job.job_id)
                while "Your test run has finished." not in outbox.sent[str(KEY)]:
                    await manager.drain()
                    await asyncio.sleep(0.02)
        finally:
            await runner.stop()
    assert not any(s.startswith("finished") for s in outbox.sent[str(KEY)])
