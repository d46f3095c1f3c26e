"""Issue 15: a file sent while no conversation runs is kept as the latest dataset, described,
and its next steps offered as buttons; each starts that conversation on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from statbot.engine.replies import Reply
from statbot.testing import ChatDriver


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def test_an_idle_upload_is_kept_described_and_offered(
    chat: ChatDriver, iris_csv: Path
) -> None:
    replies = await chat.upload(iris_csv)
    text = said(replies)
    assert "*iris.csv*: 150 rows × 5 columns" in text and "species" in text
    assert "latest dataset" in text
    assert [o.label for o in chat.menu().options] == ["Statistics", "Explore it", "Train a model"]
    assert list((chat.data_dir / "datasets").rglob("*.parquet")), "stored, not dropped"
    assert "/train —" not in text, "not the command list"


@pytest.mark.parametrize(
    ("press", "workflow", "expect"),
    [
        ("Train a model", "train", "Column types"),
        ("Statistics", "stats", "iris.csv"),
        ("Explore it", "explore", "150 rows"),
    ],
)
async def test_each_next_step_starts_on_the_file(
    chat: ChatDriver, iris_csv: Path, press: str, workflow: str, expect: str
) -> None:
    await chat.upload(iris_csv)
    text = said(await chat.press(press))
    assert (await chat.state())[0] == workflow
    assert expect in text and "Send me" not in text and "upload a file" not in text, text
    assert "Leaving" not in text


async def test_typed_answers_and_analyze_it_after_an_idle_upload(
    chat: ChatDriver, iris_csv: Path
) -> None:
    await chat.upload(iris_csv)
    assert "Choose one of" in said(await chat.send("hmm"))
    assert (await chat.state())[0] == "received"
    await chat.send("/cancel")
    text = said(await chat.send("describe it"))  # a one-shot request uses the kept file
    assert (await chat.state())[0] == "stats" and "iris.csv" in text, text
