"""The header row in the chat (issue 11, "the user may pick the header row"): the data step asks
when the loader had to guess, lists the file's first rows to pick from, takes "header row 2"
typed later too, in /stats, /explore, /train and /predict alike; the pick survives a restart and
the `statbot analyze` line reads the file the same way (``--header-row``, ``--type``)."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path

import numpy as np
import pytest
from tests.workflows.test_stats import report_in_chat, run_line, said

from statbot.engine.replies import Reply
from statbot.engine.stores.sqlite import SqliteStore
from statbot.testing import ChatDriver
from statbot.workflows.header import parse_request


def _body(rows: int = 60) -> list[str]:
    """Salaries by store, the store a numeric code (101 … 112)."""
    rng = np.random.default_rng(7)
    store = np.repeat(np.arange(101, 113), rows // 12)
    salary = 40 + (store - 100) / 2 + rng.normal(0, 3, store.size)
    return [f"{s},{p:.1f}" for s, p in zip(store, salary, strict=True)]


def _titled(tmp_path: Path) -> Path:
    """A title line above the header: the loader skips it (a guess the chat asks about)."""
    path = tmp_path / "staff.csv"
    path.write_text("\n".join(["Staff survey 2024", "store,salary", *_body()]) + "\n")
    return path


def _decoy(tmp_path: Path) -> Path:
    """Two rows of names: the loader takes the first (no guess), the user means the second."""
    path = tmp_path / "export.csv"
    path.write_text("\n".join(["branch,pay", "store,salary", *_body()]) + "\n")
    return path


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("header row 3", 3),
        ("header is row 3", 3),
        ("The header is on row 12.", 12),
        ("column names are in row 2", 2),
        ("row 4", 4),
        ("no header", 0),
        ("header is on another row", "header_other"),
        ("treat zip as category", None),
        ("rows", None),
        ("3", None),
    ],
)
def test_typed_header_requests(text: str, row: int | str | None) -> None:
    assert parse_request(text) == row


async def test_stats_asks_when_a_title_row_was_skipped_and_lists_the_rows(
    chat: ChatDriver, tmp_path: Path
) -> None:
    await chat.send("/stats")
    text = said(await chat.upload(_titled(tmp_path)))
    assert "The column names are in row 2 (the rows above it skipped): store, salary." in text
    assert [o.label for o in chat.menu().options] == ["Looks right", "Header is on another row"]
    await chat.press("Header is on another row")
    menu = chat.menu()
    assert menu.text.startswith("Which row holds the column names?")
    labels = [o.label for o in menu.options]
    assert labels[:3] == ["1: Staff survey 2024", "2: store, salary", "3: 101, 40.5"], labels
    assert labels[-1] == "No header row"
    text = said(await chat.press("1: Staff survey 2024"))
    assert "The column names are in row 1: Staff survey 2024, column_2." in text
    text = said(await chat.send("no header"))
    assert "No row looked like column names, so I numbered the columns: column_1" in text
    await chat.press("Header is on another row")
    said(await chat.press("2: store, salary"))
    assert "store, salary. Is that right?" in chat.menu().text
    await chat.press("Looks right")
    assert chat.menu().text == "Which analysis?"
    assert await chat.state() == ("stats", "analysis")


async def test_a_header_typed_later_and_a_type_correction_reach_the_cli_line(
    chat: ChatDriver, tmp_path: Path
) -> None:
    path = _decoy(tmp_path)
    await chat.send("/stats")
    text = said(await chat.upload(path))
    assert "Is that right?" not in text  # row 1 looks like names: no guess, no question
    assert 'Type e.g. "header row 3"' in text and chat.menu().text == "Which analysis?"
    text = said(await chat.send("header is row 2"))
    assert "The column names are in row 2 (the rows above it skipped): store, salary." in text
    await chat.press("Looks right")
    assert "OK: 'store' will be treated as category." in said(
        await chat.send("treat store as category")
    )
    await chat.press("Test")
    await chat.send("salary")
    replies = await chat.send("store")
    text = said(replies)
    assert "One-way ANOVA" in text or "Welch's ANOVA" in text, text
    assert "--header-row 2 --type store=category --json" in text
    cli = run_line(replies, path.parent)  # run as printed, it gets the chat's numbers
    report_in_chat(cli, replies)
    assert len(cli["groups"]) == 12


async def test_explore_and_train_pick_the_header_from_the_same_step(
    chat: ChatDriver, tmp_path: Path
) -> None:
    path = _decoy(tmp_path)
    await chat.send("/explore")
    await chat.upload(path)
    await chat.send("header row 2")
    await chat.press("Looks right")
    assert "store (integer)" in [o.label for o in chat.menu().options]
    replies = await chat.send("salary")
    report = next(r for r in replies if (r.file_name or "").endswith(".html"))
    page = html.unescape(await asyncio.to_thread(Path(report.path or "").read_text))
    line = "statbot analyze describe export.csv --columns salary --header-row 2 --json"
    assert line in page  # /explore shows its line in the report
    cli = run_line([Reply.say(f"`{line}`")], path.parent)
    assert cli["salary"]["count"] == 60
    # /train: the schema step's own button
    await chat.send("/train")
    await chat.upload(path)
    assert "Header is on another row" in [o.label for o in chat.menu().options]
    await chat.press("Header is on another row")
    await chat.press("2: store, salary")
    await chat.press("Looks right")
    assert "store" in chat.menu().text and await chat.state() == ("train", "schema")


async def test_the_pick_survives_a_restart(tmp_path: Path) -> None:
    store_path = tmp_path / "sessions.sqlite3"
    path = _titled(tmp_path)
    async with ChatDriver(tmp_path / "var", store=SqliteStore(store_path)) as chat:
        await chat.send("/stats")
        await chat.upload(path)
        await chat.send("header row 2")
        assert await chat.state() == ("stats", "data_header")
    async with ChatDriver(
        tmp_path / "var", store=SqliteStore(store_path), first_update_id=100
    ) as chat:
        await chat.send("looks right")
        assert await chat.state() == ("stats", "analysis")
        await chat.press("Describe")
        replies = await chat.send("salary")
        assert "--header-row 2 --json" in said(replies)


async def test_predict_asks_too_and_offers_the_header_when_model_columns_are_missing(
    chat: ChatDriver, tmp_path: Path
) -> None:
    from tests.support.iris import iris_frame
    from tests.workflows.test_predict_driver import save_iris_model

    body = iris_frame().drop(columns=["species"]).to_csv(index=False)
    titled, decoy = tmp_path / "titled.csv", tmp_path / "decoy.csv"
    titled.write_text("Measured 2024,,,\n" + body)
    decoy.write_text("a,b,c,d\n" + body)
    save_iris_model(chat, _plain_iris(tmp_path))
    await chat.send("/predict")
    await chat.press("latest")
    assert "Is that right?" in said(await chat.upload(titled))
    assert "150 predictions of *species*" in said(await chat.press("Looks right"))
    await chat.send("/predict")
    await chat.press("latest")
    text = said(await chat.upload(decoy))
    assert "sepal_length" in text and "not in this file" in text
    assert [o.label for o in chat.menu().options] == ["Header is on another row"]
    assert await chat.state() == ("predict", "data")
    await chat.press("Header is on another row")
    await chat.press("2: sepal_length, sepal_width")
    text = said(await chat.press("Looks right"))
    assert "150 predictions of *species*" in text, text


def _plain_iris(tmp_path: Path) -> Path:
    from tests.support.iris import iris_frame

    path = tmp_path / "train.csv"
    iris_frame().to_csv(path, index=False)
    return path


async def test_a_server_file_is_read_again_from_its_path(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    root.mkdir()
    path = _decoy(root)
    async with ChatDriver(tmp_path / "var", local_path_roots=(root,)) as chat:
        await chat.send("/stats")
        await chat.send(f"./{path.name}")  # a path inside the allowed folder
        assert chat.menu().text == "Which analysis?"
        text = said(await chat.send("header row 2"))
        assert "The column names are in row 2 (the rows above it skipped): store, salary." in text
        path.write_text("store,salary\n")  # the file is read again only when asked
        await chat.press("Looks right")
        await chat.press("Describe")
        replies = await chat.send("salary")
        assert "`salary`: n 60" in said(replies)
        assert f"statbot analyze describe {path.name} --columns salary --header-row 2" in said(
            replies
        )
