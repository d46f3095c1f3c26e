"""/train end to end through the ChatDriver, with a real local job runner (subprocesses)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from statbot.engine.replies import Reply, ReplyKind
from statbot.jobs import JobStatus
from statbot.testing import ChatDriver


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def is_png(reply: Reply) -> bool:
    return Path(reply.path or "").read_bytes()[:4] == b"\x89PNG"


def finished(text: str) -> bool:
    """A training report's headline: trained, or saved but not beating the baseline."""
    return "Model trained" in text or "Model saved, but" in text


def trained(replies: list[Reply]) -> bool:
    return any(finished(r.text) or "training failed" in r.text for r in replies)


@pytest.fixture
async def jobs_chat(tmp_path: Path) -> AsyncIterator[ChatDriver]:
    async with ChatDriver(tmp_path / "var", jobs=True) as driver:
        yield driver


async def test_train_iris_happy_path(jobs_chat: ChatDriver, iris_csv: Path) -> None:
    chat = jobs_chat
    assert "Let's train a model" in said(await chat.send("/train"))
    shown = said(await chat.upload(iris_csv))
    assert "*iris.csv*: 150 rows × 5 columns" in shown and "Column types" in shown
    assert "Which column should the model predict" in said(await chat.press("Looks right"))
    assert "Which columns should it learn from" in said(await chat.send("species"))
    assert "*multiclass* problem" in said(await chat.press("Done"))
    assert "Ready to train" in said(await chat.send("random forest"))
    await chat.press("Train")
    replies = await chat.wait_for(trained, seconds=120)
    report = said(replies)
    assert "Model trained" in report and "predicting *species*" in report
    assert "statbot analyze train" in report
    images = [r for r in replies if r.kind is ReplyKind.IMAGE]
    assert images and all(is_png(r) for r in images)
    models = chat.services.models.list(chat.key.user_id)
    assert len(models) == 1 and models[0].target == "species"
    assert await chat.state() == (None, None) or (await chat.state())[0] is None
    text = chat.transcript()
    assert "> /train" in text and "[uploads iris.csv]" in text and "[image:" in text


async def test_train_mistakes_are_explained(jobs_chat: ChatDriver, iris_csv: Path) -> None:
    chat = jobs_chat
    await chat.send("/train")
    assert "I need a data file" in said(await chat.send("hello"))
    await chat.upload(iris_csv)
    old_token = chat.menu().token
    await chat.press("Looks right")
    # a stale button from the schema step
    stale = said(await chat.press_id("ok", token=old_token))
    assert "This menu is out of date" in stale and "predict" in stale
    assert "Did you mean 'species'" in said(await chat.send("specis"))
    await chat.send("species")
    # /back returns to the target step
    assert "Which column should the model predict" in said(await chat.send("/back"))
    await chat.send("species")
    await chat.send("all except petal_width")
    assert "does not fit" in said(await chat.send("linear regression"))
    assert "Ready to train" in said(await chat.send("logistic"))
    assert "Press *Train*" in said(await chat.send("maybe"))
    assert "cancelled" in said(await chat.send("/cancel")).lower()
    assert await chat.state() == (None, None) or (await chat.state())[0] is None


async def test_one_column_file_and_one_class_target(jobs_chat: ChatDriver, tmp_path: Path) -> None:
    chat = jobs_chat
    one = tmp_path / "one.csv"
    one.write_text("x\n" + "".join(f"{i}\n" for i in range(20)))
    await chat.send("/train")
    refused = said(await chat.upload(one))
    assert "*one.csv* has only one column (x)" in refused
    assert await chat.state() == ("train", "data")
    flat = tmp_path / "flat.csv"
    flat.write_text("a,b,label\n" + "".join(f"{i},{i * 2 % 7},yes\n" for i in range(30)))
    await chat.upload(flat)
    await chat.press("Looks right")
    await chat.send("label")
    text = said(await chat.press("Done"))
    assert "'label' has only one value ('yes')" in text
    assert await chat.state() == ("train", "features")


async def test_cancel_during_training_stops_the_job(jobs_chat: ChatDriver, iris_csv: Path) -> None:
    chat = jobs_chat
    await chat.send("/train")
    await chat.upload(iris_csv)
    await chat.press("Looks right")
    await chat.send("species")
    await chat.press("Done")
    await chat.send("auto")
    await chat.press("Train")
    assert await chat.state() == ("train", "training")
    assert "The model is training" in said(await chat.send("are you done?"))
    session = await chat.manager.store.load(chat.key)
    assert session is not None
    job_id = session.data["job_id"]
    cancelled = said(await chat.send("/cancel"))
    assert "I stopped the training job; no model was saved." in cancelled
    assert await chat.state() == (None, None)
    info = await chat.jobs.status(job_id)
    assert info is not None and info.status is JobStatus.CANCELLED
    assert chat.services.models.list(chat.key.user_id) == []


def ended(replies: list[Reply]) -> bool:
    return any(finished(r.text) or "The training failed" in r.text for r in replies)


async def until_ended(chat: ChatDriver, start: int) -> list[Reply]:
    """The replies after ``start`` up to the end of the training they report."""
    replies = await chat.wait_for(lambda r: ended(r[start:]), seconds=120)
    return replies[start:]


async def test_a_failed_training_says_so_and_retry_runs_it_again(tmp_path: Path) -> None:
    """Issue 9: a deferred /train whose file changed under it fails in the job; the progress
    bar shows the failure (not a frozen 0%), no "Use /predict…", and Retry re-runs the same
    choices as a new job that reads the file at its
    new state, with the operator's limits."""
    root = tmp_path / "data"
    root.mkdir()
    good = "size,colour,price\n" + "".join(
        f"{i % 7},{'red' if i % 3 else 'blue'},{i * 1.5 + (i % 7)}\n" for i in range(80)
    )
    path = root / "shop.csv"
    path.write_text(good)
    async with ChatDriver(
        tmp_path / "var", jobs=True, local_path_roots=(root,), max_rows=200
    ) as chat:
        await chat.send("/train")
        await chat.send("./shop.csv")  # relative to the first allowed folder
        await chat.press("Defer loading")
        await chat.send("size:int, colour:category, price:float")
        await chat.send("price")
        await chat.send("all")
        assert "Ready to train" in said(await chat.send("linear"))
        path.write_text("size,colour\n1,red\n2,blue\n")  # the target column is gone
        start = len(chat.replies)
        await chat.press("Train")
        replies = await until_ended(chat, start)
        text = said(replies)
        assert "The training failed" in text and "price" in text, text
        assert "/predict" not in text and "Model trained" not in text
        bars = [r for r in replies if r.kind is ReplyKind.PROGRESS]
        assert bars[-1].final and "Failed" in bars[-1].text
        menu = replies[-1]
        assert [o.label for o in menu.options] == ["Retry", "Change the model"]
        assert await chat.state() == ("train", "failed")
        assert chat.services.models.list(chat.key.user_id) == []
        session = await chat.manager.store.load(chat.key)
        assert session is not None
        first_job = session.data["job_id"]

        path.write_text(good)
        start = len(chat.replies)
        await chat.press("Retry")
        session = await chat.manager.store.load(chat.key)
        assert session is not None and session.data["job_id"] != first_job
        replies = await until_ended(chat, start)
        assert finished(said(replies))  # this little price data may not beat the baseline
        assert len(chat.services.models.list(chat.key.user_id)) == 1

        path.write_text(good * 4)  # 320 rows: over this operator's max_rows
        await chat.send("/train")
        await chat.send("./shop.csv")  # relative to the first allowed folder
        await chat.press("Defer loading")
        await chat.send("size:int, colour:category, price:float")
        await chat.send("price")
        await chat.send("all")
        await chat.send("linear")
        start = len(chat.replies)
        await chat.press("Train")
        text = said(await until_ended(chat, start))
        assert "The training failed" in text and "200" in text, text


async def test_train_without_a_job_runner_is_refused_in_words(
    chat: ChatDriver, iris_csv: Path
) -> None:
    """`statbot chat` beside a running bot has no job runner (the bot's owns the jobs)."""
    await chat.send("/train")
    await chat.upload(iris_csv)
    await chat.press("Looks right")
    await chat.send("species")
    await chat.press("Done")
    await chat.send("random forest")
    text = said(await chat.press("Train"))
    assert "Background jobs are not available here" in text, text
    assert await chat.state() == ("train", "confirm")
