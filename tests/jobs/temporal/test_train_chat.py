"""/train end to end through the ChatDriver with STATBOT_JOBS=temporal: the bot's own wiring
picks the Temporal runner, whose worker (in the bot) trains a real model; /cancel stops one."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from tests.support.temporal import TemporalDevServer

from statbot.engine.replies import Reply, ReplyKind
from statbot.jobs import JobStatus
from statbot.jobs.temporal.runner import TemporalJobRunner
from statbot.testing import ChatDriver


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def iris_csv(path: Path) -> Path:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    frame["species"] = frame["species"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    frame.to_csv(path, index=False)
    return path


def driver(
    tmp_path: Path, server: TemporalDevServer, queue: str, env: pytest.MonkeyPatch, jobs=True
):
    """The bot's core as `statbot run` builds it, configured as an operator would
    (``jobs=False``: without the runner, for a test that wires its own)."""
    env.setenv("STATBOT_JOBS", "temporal")
    env.setenv("STATBOT_TEMPORAL_ADDRESS", server.address)
    env.setenv("STATBOT_TEMPORAL_TASK_QUEUE", queue)
    # Job ids derive from the chat and the update id, and the server outlives each test: a
    # first update id of its own keeps this test's jobs from meeting an earlier test's.
    return ChatDriver(tmp_path / "var", jobs=jobs, first_update_id=uuid.uuid4().int % 10**9)


async def choose(chat: ChatDriver, data: Path, target: str, model: str) -> None:
    await chat.send("/train")
    await chat.upload(data)
    await chat.press("Looks right")
    await chat.send(target)
    await chat.press("Done")
    assert "Ready to train" in said(await chat.send(model))


async def test_train_on_temporal(tmp_path: Path, temporal_server, queue, monkeypatch) -> None:
    async with driver(tmp_path, temporal_server, queue, monkeypatch) as chat:
        assert isinstance(chat.jobs, TemporalJobRunner)
        await choose(chat, iris_csv(tmp_path / "iris.csv"), "species", "random forest")
        await chat.press("Train")
        replies = await chat.wait_for(
            lambda rs: any("Model trained" in r.text or "failed" in r.text for r in rs),
            seconds=90,
        )
        report = said(replies)
        assert "Model trained" in report and "predicting *species*" in report
        bars = [r for r in replies if r.kind is ReplyKind.PROGRESS]
        assert len({r.fraction for r in bars}) >= 3  # the bar moved: heartbeats came through
        models = chat.services.models.list(chat.key.user_id)
        assert len(models) == 1 and models[0].target == "species"
        job_id = bars[0].progress_id
        assert job_id is not None
        info = await chat.jobs.status(job_id)
        assert info is not None and info.status is JobStatus.SUCCEEDED


async def test_cancel_on_temporal_stops_the_training(
    tmp_path: Path, temporal_server, queue, monkeypatch
) -> None:
    import pandas as pd
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=20_000, n_features=20, random_state=0)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
    frame["label"] = y
    frame.to_csv(tmp_path / "big.csv", index=False)
    async with driver(tmp_path, temporal_server, queue, monkeypatch) as chat:
        await choose(chat, tmp_path / "big.csv", "label", "auto")
        await chat.press("Train")
        await chat.wait_for(
            lambda rs: any(r.kind is ReplyKind.PROGRESS and (r.fraction or 0) > 0 for r in rs),
            seconds=60,
        )
        job_id = next(r.progress_id for r in chat.replies if r.kind is ReplyKind.PROGRESS)
        assert job_id is not None
        assert "stopped the training job" in said(await chat.send("/cancel"))
        info = await chat.jobs.status(job_id)
        assert info is not None and info.status is JobStatus.CANCELLED
        assert chat.services.models.list(chat.key.user_id) == []


async def test_two_replicas_announce_one_training_and_the_chat_reports_it_once(
    tmp_path: Path, temporal_server, queue, monkeypatch
) -> None:
    """Two bot replicas share the task queue; A runs the training, B only watches. Both hand
    the engine the job's JOB_FINISHED (each waits until the other has it too, so both really
    do): the conversation applies it once — one report, the repeat dropped by its event id."""
    import asyncio

    from statbot.engine.events import Event, EventKind

    chat = driver(tmp_path, temporal_server, queue, monkeypatch, jobs=False)
    arrived: dict[str, list[Event]] = {"a": [], "b": []}
    both_arrived, both_forwarded = asyncio.Event(), asyncio.Event()
    forwarded: list[str] = []

    def replica(name: str):  # type: ignore[no-untyped-def]
        async def emit(event: Event) -> bool:
            if event.kind is EventKind.JOB_FINISHED:
                arrived[name].append(event)
                if all(arrived.values()):
                    both_arrived.set()
                await asyncio.wait_for(both_arrived.wait(), 60)
            accepted = await chat.manager.submit(event)
            if event.kind is EventKind.JOB_FINISHED:
                forwarded.append(name)
                if len(forwarded) == 2:
                    both_forwarded.set()
            return accepted

        return emit

    a = TemporalJobRunner.from_settings(chat.settings, emit=replica("a"), progress_interval_s=0.2)
    b = TemporalJobRunner.from_settings(
        chat.settings, emit=replica("b"), worker=False, progress_interval_s=0.2
    )
    chat.core.jobs = chat.services.jobs = a
    async with chat:
        await b.start()
        try:
            await choose(chat, iris_csv(tmp_path / "iris.csv"), "species", "random forest")
            await chat.press("Train")
            await chat.wait_for(lambda rs: any("Model trained" in r.text for r in rs), seconds=90)
            await asyncio.wait_for(both_forwarded.wait(), 30)
            await chat.manager.drain()
        finally:
            await b.stop()
        assert sorted(forwarded) == ["a", "b"]
        [from_a], [from_b] = arrived["a"], arrived["b"]
        assert from_a.event_id == from_b.event_id and from_a.job == from_b.job
        reports = [r for r in chat.replies if "Model trained" in r.text]
        assert len(reports) == 1, said(reports)
        # A second JOB_FINISHED applied would say its outcome line after the report.
        assert not [r for r in chat.replies if r.text == from_a.text], chat.transcript()
        assert chat.manager.counters["duplicates"] + chat.manager.counters["duplicate_submits"] >= 1
        assert len(chat.services.models.list(chat.key.user_id)) == 1
