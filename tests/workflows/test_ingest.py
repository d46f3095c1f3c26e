"""The ingest saga (issue 14): a failure at every step leaves no Parquet file and no catalog row,
keeps the staging folder as ``.failed`` for its TTL and tells the user in words; success leaves
no staging behind; a replayed upload stores one dataset. On a real catalog: a SQLite file and a
PostgreSQL database (``catalog_url``)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from statbot.engine.events import ConversationKey, Event, EventKind, Upload
from statbot.engine.session import Session
from statbot.engine.workflow import Context
from statbot.ops.metrics import Metrics
from statbot.testing import ChatDriver
from statbot.workflows.ingest import (
    CATALOG,
    PARQUET,
    QUOTA,
    STAGE,
    STEPS,
    VALIDATE,
    IngestError,
    ingest_upload,
)

NOTHING_KEPT = "I kept nothing of it"
# What each failing step must have undone (the step's own effect is in place when it fails).
UNDONE = {
    STAGE: {STAGE},
    VALIDATE: {STAGE},
    PARQUET: {STAGE, PARQUET},
    CATALOG: {STAGE, PARQUET, CATALOG},
    QUOTA: {STAGE, PARQUET, CATALOG},
}


def fail_after(step: str) -> Callable[[str], None]:
    def checkpoint(done: str) -> None:
        if done == step:
            raise OSError(f"injected failure after {step}")

    return checkpoint


@pytest.fixture
async def chat(tmp_path: Path, catalog_url: str) -> AsyncIterator[ChatDriver]:
    async with ChatDriver(tmp_path / "var", database_url=catalog_url) as driver:
        driver.services.ingest_observer = Metrics()
        yield driver


def metrics(chat: ChatDriver) -> Metrics:
    observer = chat.services.ingest_observer
    assert isinstance(observer, Metrics)
    return observer


def sample(m: Metrics, name: str, **labels: str) -> float:
    value = m.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def parquet_files(chat: ChatDriver) -> list[Path]:
    return sorted((chat.data_dir / "datasets").rglob("*.parquet"))


def rows(chat: ChatDriver, user: int = 1) -> list[dict[str, object]]:
    return chat.services.datasets.index.entries(user)


def staged(chat: ChatDriver, user: int = 1) -> list[Path]:
    folder = chat.data_dir / "staging" / str(user)
    return sorted(folder.iterdir()) if folder.is_dir() else []


def said(replies: list[object]) -> str:
    return "\n".join(getattr(r, "text", "") for r in replies)


@pytest.mark.parametrize("step", STEPS)
async def test_a_failure_at_each_step_leaves_nothing_but_the_failed_staging(
    chat: ChatDriver, iris_csv: Path, step: str
) -> None:
    chat.services.ingest_checkpoint = fail_after(step)
    await chat.send("/stats")
    text = said(await chat.upload(iris_csv))
    assert NOTHING_KEPT in text and "send it again" in text, text
    assert parquet_files(chat) == [] and rows(chat) == []
    [failed] = staged(chat)
    assert failed.name.endswith(".failed")
    note = json.loads((failed / "FAILED.json").read_text())
    assert note["step"] == step and note["expires_at"] > time.time()
    assert abs(failed.stat().st_mtime - time.time()) < 60  # its TTL counts from the failure
    m = metrics(chat)
    assert sample(m, "statbot_saga_failures_total", saga="ingest", step=step) == 1
    for each in STEPS:
        expected = 1.0 if each in UNDONE[step] else 0.0
        got = sample(m, "statbot_saga_compensations_total", saga="ingest", step=each)
        assert got == expected, (step, each)
    assert await chat.state() == ("stats", "data")  # the step asks again

    chat.services.ingest_checkpoint = None  # the same file again: stored, staging removed
    assert "iris.csv" in said(await chat.upload(iris_csv))
    assert len(parquet_files(chat)) == 1 and len(rows(chat)) == 1
    assert staged(chat) == [failed]  # only the earlier failure, kept for its TTL
    assert sample(m, "statbot_staging_cleanups_total", outcome="success") == 1


async def test_a_file_that_is_not_a_table_keeps_its_own_message(
    chat: ChatDriver, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02 binary junk \xff\xfe")
    await chat.send("/stats")
    text = said(await chat.upload(junk))
    assert NOTHING_KEPT not in text and text
    [failed] = staged(chat)
    assert json.loads((failed / "FAILED.json").read_text())["step"] == VALIDATE
    assert parquet_files(chat) == [] and rows(chat) == []


async def test_past_the_storage_quota_the_file_and_row_are_undone(
    tmp_path: Path, iris_csv: Path, catalog_url: str
) -> None:
    async with ChatDriver(
        tmp_path / "var", database_url=catalog_url, quota_storage_mb="analyst=0.001"
    ) as chat:
        chat.services.ingest_observer = m = Metrics()
        await chat.send("/explore")
        text = said(await chat.upload(iris_csv))
        assert "storage" in text.lower() and "not kept" in text, text
        assert parquet_files(chat) == [] and rows(chat) == []
        [failed] = staged(chat)
        assert json.loads((failed / "FAILED.json").read_text())["step"] == QUOTA
        assert sample(m, "statbot_saga_compensations_total", saga="ingest", step=CATALOG) == 1
        assert sample(m, "statbot_saga_compensations_total", saga="ingest", step=PARQUET) == 1


async def test_the_catalog_refusing_the_row_removes_the_file(
    tmp_path: Path, iris_csv: Path
) -> None:
    """A real database failure at the insert (a SQLite trigger aborts it), not an injection."""
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    async with ChatDriver(tmp_path / "var", database_url=url) as chat:
        catalog = chat.services.catalog
        assert catalog is not None
        with catalog.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE TRIGGER no_room BEFORE INSERT ON datasets "
                    "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
                )
            )
        await chat.send("/stats")
        assert NOTHING_KEPT in said(await chat.upload(iris_csv))
        assert parquet_files(chat) == [] and rows(chat) == []
        [failed] = staged(chat)
        assert json.loads((failed / "FAILED.json").read_text())["step"] == CATALOG


def upload_context(chat: ChatDriver, source: Path, event_id: str = "u77") -> Context:
    key = ConversationKey("test", 1, 1)
    upload = Upload(source.name, source.stat().st_size, path=str(source))
    event = Event(key, EventKind.UPLOAD, event_id, 77, upload=upload)
    return Context(Session(key), event, None, chat.services)


async def test_a_replayed_upload_stores_one_dataset_and_undoes_nothing_of_the_first(
    chat: ChatDriver, iris_csv: Path
) -> None:
    """The commit after the saga did not happen (a crash): the event is applied again."""
    first = await ingest_upload(upload_context(chat, iris_csv))
    again = await ingest_upload(upload_context(chat, iris_csv))
    assert again.ref == first.ref
    assert len(parquet_files(chat)) == 1 and len(rows(chat)) == 1 and staged(chat) == []
    # A replay that fails late compensates only what it wrote itself: nothing of the dataset.
    with pytest.raises(IngestError) as raised:
        await ingest_upload(upload_context(chat, iris_csv), checkpoint=fail_after(QUOTA))
    assert raised.value.step == QUOTA and isinstance(raised.value.__cause__, OSError)
    assert len(parquet_files(chat)) == 1 and len(rows(chat)) == 1
    m = metrics(chat)
    assert sample(m, "statbot_saga_compensations_total", saga="ingest", step=PARQUET) == 0
    assert sample(m, "statbot_saga_compensations_total", saga="ingest", step=CATALOG) == 0
    assert sample(m, "statbot_saga_compensations_total", saga="ingest", step=STAGE) == 1


async def test_a_dataset_no_session_attached_is_swept_after_the_grace(
    chat: ChatDriver, iris_csv: Path, tmp_path: Path
) -> None:
    """Attach is the engine's commit: a dataset stored but never named by a committed session
    is removed by the orphan sweep; one a session names stays."""
    await chat.send("/stats")
    await chat.upload(iris_csv)  # stored and attached: the session names it
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n3,4\n5,7\n")
    await ingest_upload(upload_context(chat, other, "u99"))  # stored, never attached
    assert len(parquet_files(chat)) == 2 and len(rows(chat)) == 2
    grace = 60.0
    assert await chat.core.userdata.sweep_orphans(time.time() + grace + 1, grace) == 1
    [kept] = rows(chat)
    assert kept["ref"]["name"] == "iris.csv"  # type: ignore[index]
    assert len(parquet_files(chat)) == 1


async def test_a_download_that_fails_is_told_in_words(chat: ChatDriver, tmp_path: Path) -> None:
    """A real failure at ``stage``: the file the channel names is not there to fetch."""
    await chat.send("/stats")
    text = said(await chat.upload(tmp_path / "gone.csv", size=100))
    assert NOTHING_KEPT in text, text
    assert parquet_files(chat) == [] and rows(chat) == []
    [failed] = staged(chat)  # the folder the fetch had made, kept with why
    assert json.loads((failed / "FAILED.json").read_text())["step"] == STAGE
    m = metrics(chat)
    assert sample(m, "statbot_saga_failures_total", saga="ingest", step=STAGE) == 1
