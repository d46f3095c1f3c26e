"""/explore through the ChatDriver: overview (shape, types, head, missing values) and the
distributions of chosen columns; the mistakes users make."""

from __future__ import annotations

from pathlib import Path

from statbot.engine.replies import Reply, ReplyKind
from statbot.testing import ChatDriver
from statbot.workflows.explore import LINE_CHARS, head_table


def is_png(reply: Reply) -> bool:
    return Path(reply.path or "").read_bytes()[:4] == b"\x89PNG"


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def test_overview_then_distributions(chat: ChatDriver, iris_csv: Path) -> None:
    assert "Let's explore your data" in said(await chat.send("/explore"))
    overview = said(await chat.upload(iris_csv))
    assert "*iris.csv*: 150 rows × 5 columns." in overview
    assert "sepal_length" in overview and "cat(3)" in overview  # columns and types
    assert "First rows:" in overview and "5.1" in overview  # the head
    assert "No missing values." in overview
    menu = chat.menu()
    assert menu.multi and menu.selected == ()
    assert "Tick at least one column" in said(await chat.press("Done"))
    await chat.press("sepal_length")
    replies = await chat.press("species")
    assert chat.menu().selected == ("sepal_length", "species")
    replies = await chat.press("Done")
    images = [r for r in replies if r.kind is ReplyKind.IMAGE]
    assert [r.text for r in images] == ["Distribution of sepal_length"]
    assert is_png(images[0])
    text = said(replies)
    assert "*species*: 3 distinct values in 150 rows." in text and "setosa: 50" in text
    explain = [r for r in replies if r.kind is ReplyKind.CHOICES]
    assert [o.id for r in explain for o in r.options] == ["/kb_get histogram"], text
    assert await chat.state() == (None, None)


async def test_missing_values_wide_table_and_typed_columns(
    chat: ChatDriver, tmp_path: Path
) -> None:
    wide = tmp_path / "wide.csv"
    header = ",".join(f"a_rather_long_column_name_{i}" for i in range(12))
    rows = [",".join("" if (r + i) % 5 == 0 else str(r * i) for i in range(12)) for r in range(8)]
    wide.write_text(header + "\n" + "\n".join(rows) + "\n")
    await chat.send("/explore")
    overview = said(await chat.upload(wide))
    assert "Missing values: " in overview and "a_rather_long_column_name_0: 2 (25%)" in overview
    head = overview.split("First rows:\n`", 1)[1].split("`", 1)[0]
    assert all(len(line) <= LINE_CHARS + 20 for line in head.splitlines())
    assert "more columns not shown" in head
    assert "Did you mean" in said(await chat.send("a_rather_long_column_nme_1"))
    replies = await chat.send("a_rather_long_column_name_1, a_rather_long_column_name_2")
    assert len([r for r in replies if r.kind is ReplyKind.IMAGE]) == 2


def test_head_table_truncates_cells_and_columns() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {"name": ["a" * 30, "b"], "x": [1.5, None], **{f"c{i}": [i, i] for i in range(20)}}
    )
    table = head_table(frame)
    lines = table.splitlines()
    assert lines[0].startswith("name") and "aaaaaaaaa…" in lines[1]
    assert all(len(line) <= LINE_CHARS for line in lines[:-1])
    assert lines[-1].endswith("more columns not shown")


async def test_stale_buttons_back_cancel_and_last_dataset(chat: ChatDriver, iris_csv: Path) -> None:
    await chat.send("/explore")
    assert "I need a data file" in said(await chat.send("hello"))
    await chat.upload(iris_csv)
    assert "Let's explore" in said(await chat.send("/back"))
    assert "150 rows" in said(await chat.press("Use iris.csv"))
    token = chat.menu().token
    await chat.press("species")
    await chat.press("Done")  # finished: the column menu is now out of date
    stale = said(await chat.press_id("sepal_width", token=token))
    assert "This menu is out of date" in stale
    await chat.send("/explore")
    await chat.press("Use iris.csv")
    assert "cancel" in said(await chat.send("/cancel")).lower()
    assert await chat.state() == (None, None)
