"""Trainings against the quota, through the chat with a real job runner (issue 12): beyond the
day's free trainings one credit each, spent once; refused without credit or without room for
the model, nothing started; a training cancelled while queued gives its credit back."""

from __future__ import annotations

from pathlib import Path

from statbot.access.ledger import PURCHASE, Ledger
from statbot.access.models import User
from statbot.engine.replies import Reply, ReplyKind
from statbot.jobs.base import JobStatus
from statbot.jobs.builtin import train_spec
from statbot.jobs.train_io import StoredDataset, TrainInput
from statbot.testing import ChatDriver
from statbot.workflows.quota_checks import quotas


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def ledger(chat: ChatDriver) -> Ledger:
    assert chat.services.catalog is not None
    return Ledger(chat.services.catalog)


def buy(chat: ChatDriver, credits: int) -> None:
    ledger(chat).record(key=f"purchase:t{credits}", user_id=1, kind=PURCHASE, credits=credits,
                        stars=5 * credits)  # fmt: skip


async def ready(chat: ChatDriver, csv: Path) -> None:
    await chat.send("/train")
    await chat.upload(csv)
    await chat.press("Looks right")
    await chat.send("species")
    await chat.press("Done")
    assert "Ready to train" in said(await chat.send("logistic"))


def finished(replies: list[Reply]) -> bool:
    return any("Model trained" in r.text or "Model saved, but" in r.text for r in replies)


async def test_without_free_trainings_or_credits_nothing_starts(
    tmp_path: Path, iris_csv: Path
) -> None:
    async with ChatDriver(tmp_path / "var", jobs=True, quota_trainings_per_day="analyst=0") as chat:
        await ready(chat, iris_csv)
        text = said(await chat.press("Train"))
        assert "You have no free trainings (the limit resets at 00:00 UTC (in " in text
        assert "costs 1 credit, and you have none: /buy adds credits" in text
        assert await chat.jobs.list(1) == []
        assert await chat.state() == ("train", "confirm")
        assert ledger(chat).recent(1) == []


async def test_a_training_beyond_the_free_ones_spends_one_credit_once(
    tmp_path: Path, iris_csv: Path
) -> None:
    async with ChatDriver(tmp_path / "var", jobs=True, quota_trainings_per_day="analyst=1") as chat:
        buy(chat, 2)
        await ready(chat, iris_csv)
        assert "costs 1 credit" not in said(await chat.press("Train"))  # the free one
        await chat.wait_for(finished, seconds=120)
        await ready(chat, iris_csv)
        paid = said(await chat.press("Train"))
        assert "Today's free trainings are used, so this one costs 1 credit" in paid
        assert "(1 credit(s) left)" in paid
        await chat.wait_for(lambda r: sum(finished([x]) for x in r) == 2, seconds=120)
        jobs = await chat.jobs.list(1)
        assert [j.status for j in jobs] == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]
        assert ledger(chat).balance(1) == 1
        spends = [m.key for m in ledger(chat).recent(1) if m.kind == "spend"]
        assert spends == [f"spend:{jobs[1].job_id}"]
        q = quotas(chat.services)
        assert q is not None
        again = q.start_training(1, jobs[1].job_id)  # the start applied again (a replay)
        assert again.again and ledger(chat).balance(1) == 1 and q.trainings_today(1) == 1
        assert "• Credits: 1" in said(await chat.send("/quota"))


async def test_no_training_starts_without_room_for_its_model(
    tmp_path: Path, iris_csv: Path
) -> None:
    async with ChatDriver(tmp_path / "var", jobs=True) as chat:
        await ready(chat, iris_csv)
        assert chat.services.catalog is not None
        with chat.services.catalog.session() as s:
            assert s.get(User, 1) is not None  # written on first contact (access.users)
        q = quotas(chat.services)
        assert q is not None
        q.set_override(0, 1, "storage_mb", 0.001)  # the dataset alone fills it
        text = said(await chat.press("Train"))
        assert "Your storage quota is full" in text and "no new model can be saved" in text
        assert await chat.jobs.list(1) == [] and q.trainings_today(1) == 0


async def test_a_training_cancelled_while_queued_gives_its_credit_back(
    tmp_path: Path, iris_csv: Path
) -> None:
    async with ChatDriver(tmp_path / "var", jobs=True, quota_trainings_per_day="analyst=0") as chat:
        buy(chat, 1)
        await ready(chat, iris_csv)
        # The user's one job slot is taken by a slow training they started elsewhere.
        ref = chat.services.datasets.list(1)[0].ref
        blocker = TrainInput(user_id=1, idempotency_key="blocker", data_dir=chat.data_dir,
                             source=StoredDataset(ref), target="species", model="auto",
                             tune=True)  # fmt: skip
        await chat.jobs.submit(train_spec(blocker, key="test:9:1"))
        text = said(await chat.press("Train"))
        assert "costs 1 credit (0 credit(s) left)" in text and "queued (position 1)" in text
        assert ledger(chat).balance(1) == 0
        job_id = next(r.progress_id for r in reversed(chat.replies) if r.kind is ReplyKind.PROGRESS)
        assert "stopped the training job" in said(await chat.send("/cancel"))
        info = await chat.jobs.status(job_id)
        assert info is not None and info.status is JobStatus.CANCELLED and info.attempts == 0
        assert ledger(chat).balance(1) == 1
        assert ledger(chat).find(f"return:{job_id}") is not None
        await chat.jobs.cancel(train_spec(blocker, key="test:9:1").job_id)
