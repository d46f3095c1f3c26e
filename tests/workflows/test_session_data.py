"""The typed data of each conversation (workflows/session_data.py) against sessions stored by
the statbot before it (string keys in ``ctx.data``): such a session, written here as that code
wrote it, loads from a real SQLite store after the upgrade and the conversation goes on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.iris import iris_frame

from statbot.engine.replies import Reply, ReplyKind
from statbot.engine.session import Session
from statbot.engine.stores.sqlite import SqliteStore
from statbot.testing import DEFAULT_KEY, ChatDriver
from statbot.workflows.session_data import AnalysisData, ExploreData, StatsData, TrainData

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
KINDS = {c: "numeric" for c in COLUMNS[:4]} | {"species": "categorical"}


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


@pytest.fixture
async def stored(tmp_path: Path) -> AsyncIterator[tuple[ChatDriver, SqliteStore]]:
    store = SqliteStore(tmp_path / "sessions.sqlite3")
    async with ChatDriver(tmp_path / "var", store=store) as driver:
        yield driver, store


def old_dataset(chat: ChatDriver) -> dict[str, Any]:
    """A dataset in the session as the data step wrote it (and still writes it)."""
    ref = chat.services.datasets.put(chat.key.user_id, iris_frame(), None, name="iris.csv")
    return {
        "ref": ref.to_dict(),
        "name": "iris.csv",
        "rows": 150,
        "columns": COLUMNS,
        "kinds": KINDS,
    }


def old_session(
    workflow: str, state: str, data: dict[str, Any], stack: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A session record as the dict-based handlers left it (by default one back-stack entry);
    its dataset, if it has one, is also the user's last."""
    dataset = data.get("dataset")
    return {
        "key": str(DEFAULT_KEY),
        "workflow": workflow,
        "state": state,
        "data": data,
        "stack": [{"state": state, "data": data}] if stack is None else stack,
        "context": {"dataset": dataset} if dataset else {},
        "datasets": [dataset["ref"]["digest"]] if dataset else [],
        "history": [],
        "version": 0,
        "last_update_id": 7,
        "recent_events": ["u7"],
        "schema_version": 1,
        "status": "active",
        "created_at": 1.0e9,
        "updated_at": 1.0e9,
        "grace_until": None,
        "menu": "0badf00d",
    }


async def put(store: SqliteStore, raw: dict[str, Any]) -> None:
    await store.commit(Session.from_dict(raw), expected_version=0)


async def test_a_stats_session_of_the_old_layout_goes_on(
    stored: tuple[ChatDriver, SqliteStore],
) -> None:
    chat, store = stored
    dataset = old_dataset(chat)
    features = ["sepal_length", "sepal_width", "petal_width"]
    data = {
        "dataset": dataset,
        "analysis": "regression",
        "target": "petal_length",
        "selected": features,
    }
    stack = [
        {"state": "data", "data": {}},
        {"state": "analysis", "data": {"dataset": dataset}},
        {"state": "target", "data": {"dataset": dataset, "analysis": "regression"}},
        {"state": "features", "data": data},
    ]
    raw = old_session("stats", "features", data, stack)
    # The old layout is the typed layout: nothing is renamed, nothing lost.
    assert StatsData.from_dict(data).to_dict() == data
    await put(store, raw)
    replies = await chat.send("done")
    assert "Linear regression of petal_length on 3 predictors, n = 150" in said(replies)
    assert "sepal_width: each unit more" in said(replies) and "species" not in said(replies)
    assert await chat.state() == ("stats", "more")
    assert "Which analysis" in said(await chat.press("Another analysis"))
    assert (await store.load(DEFAULT_KEY)).data == {"dataset": dataset}  # type: ignore[union-attr]


async def test_an_explore_session_of_the_old_layout_goes_on(
    stored: tuple[ChatDriver, SqliteStore],
) -> None:
    chat, store = stored
    dataset = old_dataset(chat)
    data = {"dataset": dataset, "selected": ["species"]}
    stack = [{"state": "data", "data": {}}, {"state": "columns", "data": {**data, "selected": []}}]
    assert ExploreData.from_dict(data).to_dict() == data
    await put(store, old_session("explore", "columns", data, stack))
    replies = await chat.send("done")
    assert "*species*: 3 distinct values in 150 rows." in said(replies)
    assert not [r for r in replies if r.kind is ReplyKind.IMAGE]


def test_typed_data_round_trips_and_leaves_unset_choices_out() -> None:
    assert StatsData.from_dict({}).to_dict() == {}
    assert AnalysisData.from_dict({"intent": {"dataset": "last"}}).intent == {"dataset": "last"}
    # "nothing ticked yet" and "everything unticked" differ: the menu ticks the first columns
    # only when nothing was chosen.
    assert StatsData.from_dict({"selected": []}).selected == []
    assert StatsData.from_dict({}).selected is None
    stats = StatsData(analysis="test", var_a="x", selected=["a"])
    stats.new_analysis()
    assert stats.to_dict() == {}


async def test_a_train_session_of_the_old_layout_goes_on(
    stored: tuple[ChatDriver, SqliteStore],
) -> None:
    chat, store = stored
    dataset = old_dataset(chat)
    features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    data = {
        "dataset": dataset,
        "schema_text": "sepal_length  float",
        "target": "species",
        "features": features,
        "task": "multiclass",
        "model": "logistic",
        "job_id": "j-old",
        "progress": 0.4,
        "outcome": {"status": "failed", "error": "the worker ran out of memory"},
        "analyze": "statbot analyze train iris.csv --target species --json",
    }
    stack = [{"state": "data", "data": {}}, {"state": "failed", "data": data}]
    assert TrainData.from_dict(data).to_dict() == data
    await put(store, old_session("train", "failed", data, stack))
    assert "The training failed: the worker ran out of memory." in said(await chat.send("/help"))
    await chat.press("Change the model")
    assert "This is a *multiclass* problem" in chat.last_text()
    await chat.press("k-nearest")
    assert "Ready to train *k-nearest neighbours* to predict *species* from sepal_length" in (
        chat.last_text()
    )
    # A deferred server file, as the old /train described it.
    deferred = {
        "deferred": {"path": "/srv/data/big.csv", "spec": "x:float, y:category"},
        "path": "/srv/data/big.csv",
        "overrides": {"zip": "category"},
    }
    assert TrainData.from_dict(deferred).to_dict() == deferred
