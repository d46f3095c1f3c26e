"""The typed data of /predict, /models, /describe and the knowledge-base readers against
sessions stored by the statbot before it (string keys in ``ctx.data``): each session below is
written as that code wrote it into a real SQLite file while no bot runs; a bot started afterwards
on that file goes on with the conversation."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from tests.kb.fixtures import SMALL, write_entries
from tests.workflows.test_predict_driver import save_iris_model
from tests.workflows.test_session_data import old_session

from statbot.engine.replies import Reply, ReplyKind
from statbot.engine.session import Session
from statbot.engine.stores.sqlite import SqliteStore
from statbot.kb import KnowledgeBase
from statbot.testing import ChatDriver
from statbot.workflows.session_data import PredictData
from statbot.workflows.session_data_plain import DescribeData, KbData, ModelsData


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def write_session(path: Path, raw: dict[str, Any]) -> None:
    store = SqliteStore(path)
    await store.open()
    try:
        await store.commit(Session.from_dict(raw), expected_version=0)
    finally:
        await store.close()


@asynccontextmanager
async def restarted(
    tmp_path: Path, raw: dict[str, Any], kb: KnowledgeBase | None = None
) -> AsyncIterator[ChatDriver]:
    """A bot started on a session store holding ``raw`` (written before it started)."""
    path = tmp_path / "sessions.sqlite3"
    await write_session(path, raw)
    async with ChatDriver(tmp_path / "var", store=SqliteStore(path)) as chat:
        if kb is not None:
            chat.services.kb = kb  # type: ignore[misc]
        yield chat


def model_in(tmp_path: Path, iris_csv: Path) -> str:
    """A real model in the data dir the restarted bot will use."""
    chat = ChatDriver(tmp_path / "var")
    return save_iris_model(chat, iris_csv)


def round_trips(loader: Callable[[dict[str, Any]], Any], data: dict[str, Any]) -> bool:
    """The old layout is the typed layout: nothing renamed, nothing lost."""
    return bool(loader(data).to_dict() == data)


async def test_a_predict_session_of_the_old_layout_goes_on(tmp_path: Path, iris_csv: Path) -> None:
    model_id = model_in(tmp_path, iris_csv)
    features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    model = {"id": model_id, "name": "iris model", "features": features, "target": "species"}
    data = {"intent": {"dataset": "last"}, "model": model}
    assert round_trips(PredictData.from_dict, data)
    new_rows = tmp_path / "new.csv"
    pd.read_csv(iris_csv).drop(columns=["species"]).iloc[::10].to_csv(new_rows, index=False)
    async with restarted(tmp_path, old_session("predict", "data", data)) as chat:
        assert "Model *iris model* predicts *species* from: sepal_length" in said(
            await chat.send("/help")
        )
        replies = await chat.upload(new_rows)
        assert "15 predictions of *species*" in said(replies)
        [doc] = [r for r in replies if r.kind is ReplyKind.DOCUMENT]
        assert len(pd.read_csv(doc.path or "")) == 15
        assert await chat.state() == (None, None)


async def test_a_models_session_of_the_old_layout_goes_on(tmp_path: Path, iris_csv: Path) -> None:
    model_id = model_in(tmp_path, iris_csv)
    data = {"model_id": model_id}
    assert round_trips(ModelsData.from_dict, data)
    async with restarted(tmp_path, old_session("models", "rename", data)) as chat:
        assert 'Renamed to "flowers"' in said(await chat.send("flowers"))
        assert "*flowers* (id" in chat.last_text()
        await chat.press("Delete")
        assert 'Delete "flowers" for good?' in chat.last_text()
        assert "Deleted." in said(await chat.press("Yes, delete it"))
        assert chat.services.models.list(chat.key.user_id) == []


async def test_a_describe_session_of_the_old_layout_goes_on(tmp_path: Path) -> None:
    table = tmp_path / "shop.csv"
    with table.open("w", newline="") as handle:
        csv.writer(handle).writerows([["item", "price", "weight"], ["a", 1.5, 10], ["b", 2.5, 30]])
    data = {
        "path": str(table),
        "name": "shop.csv",
        "source": "shop.csv",
        "numeric": ["price", "weight"],
        "selected": ["c1"],
    }
    assert round_trips(DescribeData.from_dict, data)
    assert round_trips(DescribeData.from_dict, {})  # before the file
    async with restarted(tmp_path, old_session("describe", "columns", data)) as chat:
        replies = await chat.send("done")
        text = said(replies)
        assert "*shop.csv* — 1 column(s):" in text
        assert "`weight`: count 2, mean 20" in text and "`price`" not in text
        assert "statbot analyze describe shop.csv --columns weight --json" in text
        assert [r.file_name for r in replies if r.kind is ReplyKind.DOCUMENT] == [
            "describe-shop.csv"
        ]


async def test_a_knowledge_base_session_of_the_old_layout_goes_on(tmp_path: Path) -> None:
    kb = KnowledgeBase.load(write_entries(tmp_path / "entries", SMALL), strict=True)
    data = {
        "intent": {"query": "what is a p-value?"},
        "query": "hypothesis testing",
        "shown": ["null-hypothesis", "p-value"],
    }
    assert round_trips(KbData.from_dict, data)
    async with restarted(tmp_path, old_session("kb_search", "browse", data), kb) as chat:
        # a number picks from the buttons the old session showed
        assert said(await chat.send("2")).startswith("*p-value* (concept)")
        # /help shows where the reader is again: the entry just opened, not the old search
        again = said(await chat.send("/help"))
        assert "*p-value* (concept)" in again and "best first" not in again
        assert await chat.state() == ("kb_search", "browse")


def test_unset_values_are_left_out() -> None:
    assert ModelsData.from_dict({}).to_dict() == {}
    assert KbData.from_dict({"entry": None}).to_dict() == {}
    assert PredictData.from_dict({}).to_dict() == {}
    assert KbData.from_dict({"intent": {"query": " p value "}}).asked == "p value"
