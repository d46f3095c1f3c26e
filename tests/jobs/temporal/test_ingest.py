"""The ingest saga as a Temporal workflow (issue 14), on a real dev server, through the bot's
own wiring (STATBOT_JOBS=temporal) with a worker the test builds (``build_worker``, as the bot
and ``statbot worker`` do) so that it can inject a failure after each step: success stores the
dataset and its row and removes the staging; a failure at any step leaves no file and no row,
the staging kept as ``.failed``; a replayed event runs nothing twice."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from tests.support.temporal import TemporalDevServer

from statbot.access.catalog import database_url
from statbot.engine.events import ConversationKey, Event, EventKind
from statbot.engine.session import Session
from statbot.engine.workflow import Context
from statbot.jobs.ingest import CATALOG, PARQUET, QUOTA, STAGE, VALIDATE
from statbot.jobs.temporal.runner import TemporalJobRunner
from statbot.jobs.temporal.worker import build_worker
from statbot.ops.metrics import Metrics
from statbot.testing import ChatDriver
from statbot.workflows.ingest import store_file

NOTHING_KEPT = "I kept nothing of it"
STEPS = (VALIDATE, PARQUET, CATALOG, QUOTA)
UNDONE = {  # what each failing step must have undone (its own effect is in place)
    VALIDATE: {STAGE},
    PARQUET: {STAGE, PARQUET},
    CATALOG: {STAGE, PARQUET, CATALOG},
    QUOTA: {STAGE, PARQUET, CATALOG},
}


class Steps:
    """The worker's checkpoint: counts each step's runs, fails the one named."""

    def __init__(self) -> None:
        self.fail: str | None = None
        self.ran: list[str] = []

    def __call__(self, step: str) -> None:
        self.ran.append(step)
        if step == self.fail:
            raise OSError(f"injected failure after {step}")


@pytest.fixture
def steps() -> Steps:
    return Steps()


@pytest.fixture
async def chat(
    tmp_path: Path,
    temporal_server: TemporalDevServer,
    queue: str,
    monkeypatch: pytest.MonkeyPatch,
    steps: Steps,
) -> AsyncIterator[ChatDriver]:
    monkeypatch.setenv("STATBOT_JOBS", "temporal")
    monkeypatch.setenv("STATBOT_TEMPORAL_ADDRESS", temporal_server.address)
    monkeypatch.setenv("STATBOT_TEMPORAL_TASK_QUEUE", queue)
    monkeypatch.setenv("STATBOT_TEMPORAL_WORKER", "false")  # the test's worker below
    driver = ChatDriver(tmp_path / "var", jobs=True, first_update_id=uuid.uuid4().int % 10**9)
    async with driver:
        driver.services.ingest_observer = Metrics()
        client = await Client.connect(temporal_server.address)
        workers = build_worker(
            client,
            task_queue=queue,
            data_dir=driver.data_dir,
            catalog_url=database_url(driver.settings),
            ingest_checkpoint=steps,
        )
        async with workers:
            yield driver


def runner(chat: ChatDriver) -> TemporalJobRunner:
    assert isinstance(chat.jobs, TemporalJobRunner)
    return chat.jobs


def sample(chat: ChatDriver, name: str, **labels: str) -> float:
    observer = chat.services.ingest_observer
    assert isinstance(observer, Metrics)
    return observer.registry.get_sample_value(name, labels) or 0.0


def parquet_files(chat: ChatDriver) -> list[Path]:
    return sorted((chat.data_dir / "datasets").rglob("*.parquet"))


def rows(chat: ChatDriver) -> list[dict[str, Any]]:
    return chat.services.datasets.index.entries(chat.key.user_id)


def staged(chat: ChatDriver) -> list[Path]:
    folder = chat.data_dir / "staging" / str(chat.key.user_id)
    return sorted(folder.iterdir()) if folder.is_dir() else []


def said(replies: list[Any]) -> str:
    return "\n".join(getattr(r, "text", "") for r in replies)


async def ingests(chat: ChatDriver) -> list[Any]:
    """This deployment's ingest workflows, as Temporal lists them (visibility lags a little)."""
    r = runner(chat)
    query = f"WorkflowType='statbot.ingest' AND WorkflowId STARTS_WITH '{r.scope.prefix}ingest/'"
    for _ in range(50):
        found = [w async for w in r.client.list_workflows(query)]
        if found:
            return found
        await asyncio.sleep(0.2)
    return []


async def test_an_upload_is_stored_by_the_workflow_and_its_staging_removed(
    chat: ChatDriver, iris_csv: Path, steps: Steps
) -> None:
    await chat.send("/stats")
    assert "iris.csv" in said(await chat.upload(iris_csv))
    assert steps.ran == list(STEPS)  # every step ran once, in the worker
    assert len(parquet_files(chat)) == 1 and len(rows(chat)) == 1 and staged(chat) == []
    assert sample(chat, "statbot_staging_cleanups_total", outcome="success") == 1
    [run] = await ingests(chat)
    user = chat.key.user_id
    assert run.id.startswith(f"{runner(chat).scope.prefix}ingest/{user}/u")
    assert run.status is WorkflowExecutionStatus.COMPLETED


@pytest.mark.parametrize("step", STEPS)
async def test_a_failure_after_each_step_is_compensated_in_the_workflow(
    chat: ChatDriver, iris_csv: Path, steps: Steps, step: str
) -> None:
    steps.fail = step
    await chat.send("/stats")
    text = said(await chat.upload(iris_csv))
    assert NOTHING_KEPT in text and "send it again" in text, text
    assert steps.ran.count(step) == 3  # retried a little, then compensated
    assert parquet_files(chat) == [] and rows(chat) == []
    [failed] = staged(chat)
    assert failed.name.endswith(".failed")
    assert json.loads((failed / "FAILED.json").read_text())["step"] == step
    assert sample(chat, "statbot_saga_failures_total", saga="ingest", step=step) == 1
    for each in (STAGE, *STEPS):
        expected = 1.0 if each in UNDONE[step] else 0.0
        got = sample(chat, "statbot_saga_compensations_total", saga="ingest", step=each)
        assert got == expected, (step, each)
    [run] = await ingests(chat)
    assert run.status is WorkflowExecutionStatus.FAILED
    assert await chat.state() == ("stats", "data")  # the step asks again

    steps.fail = None  # the same file again (a new event): stored
    assert "iris.csv" in said(await chat.upload(iris_csv))
    assert len(parquet_files(chat)) == 1 and len(rows(chat)) == 1
    assert staged(chat) == [failed]


async def test_the_users_own_problem_comes_back_in_its_words_without_a_retry(
    chat: ChatDriver, tmp_path: Path, steps: Steps
) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02 binary junk \xff\xfe")
    await chat.send("/stats")
    text = said(await chat.upload(junk))
    assert text and NOTHING_KEPT not in text, text
    assert steps.ran == []  # validate refused it once: no retry, no checkpoint
    [failed] = staged(chat)
    assert json.loads((failed / "FAILED.json").read_text())["step"] == VALIDATE
    assert parquet_files(chat) == [] and rows(chat) == []


def event_context(chat: ChatDriver, event_id: str) -> Context:
    key = ConversationKey("test", chat.key.user_id, chat.key.chat_id)
    event = Event(key, EventKind.TEXT, event_id, 77, text="a path")
    return Context(Session(key), event, None, chat.services)


async def test_a_replayed_event_runs_nothing_twice_and_gets_the_same_dataset(
    chat: ChatDriver, iris_csv: Path, steps: Steps
) -> None:
    """Two replicas apply the same event at once (one attaches to the other's workflow), then
    a third after a crash (the workflow is closed: its result is read)."""
    store: Callable[[], Any] = lambda: store_file(  # noqa: E731
        event_context(chat, "u4242"), iris_csv, "iris.csv", source={"path": str(iris_csv)}
    )
    first, second = await asyncio.gather(store(), store())
    third = await store()
    assert first.ref == second.ref == third.ref
    assert steps.ran == list(STEPS)  # one run of each step
    assert len(parquet_files(chat)) == 1 and len(rows(chat)) == 1
    assert len(await ingests(chat)) == 1
    # Another event storing the same bytes is another workflow, and the same dataset.
    again = await store_file(event_context(chat, "u4243"), iris_csv, "iris.csv")
    assert again.ref == first.ref and len(rows(chat)) == 1


async def test_forget_deletes_the_users_ingest_workflows(chat: ChatDriver, iris_csv: Path) -> None:
    """Their histories name the user's files: /forget removes them with the jobs."""
    await store_file(event_context(chat, "u5151"), iris_csv, "iris.csv")
    [run] = await ingests(chat)
    r = runner(chat)
    await r.delete_user(chat.key.user_id)
    handle = r.client.get_workflow_handle(run.id)
    for _ in range(300):  # the dev server deletes in the background, within a minute
        try:
            await handle.describe()
        except RPCError as exc:
            assert exc.status is RPCStatusCode.NOT_FOUND
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{run.id} is still there")
