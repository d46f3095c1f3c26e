"""Type corrections in /stats and /explore (issue 11, "Import you can steer"): the schema summary
after loading offers them, a typed one is stored as the conversation's dataset, and the next
analysis reads the corrected type — through workflows/retype.py, /train's own code path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tests.workflows.test_stats import said

from statbot.testing import ChatDriver


def _staff(tmp_path: Path) -> Path:
    """Salaries by store, the store written as a numeric code (101 … 112): more levels than
    /stats takes a whole-number column for a grouping by itself."""
    rng = np.random.default_rng(7)
    store = np.repeat(np.arange(101, 113), 5)
    salary = 40 + (store - 100) / 2 + rng.normal(0, 3, store.size)
    frame = pd.DataFrame({"store": store, "salary": salary.round(1)})
    path = tmp_path / "staff.csv"
    frame.to_csv(path, index=False)
    return path


async def test_stats_code_column_corrected_to_category_is_offered_as_a_group(
    chat: ChatDriver, tmp_path: Path
) -> None:
    await chat.send("/stats")
    loaded = said(await chat.upload(_staff(tmp_path)))
    assert "Column types as I read them" in loaded and "treat zip as category" in loaded
    assert chat.menu().text == "Which analysis?"
    refused = said(await chat.send("treat branch as category"))
    assert "branch" in refused and "store" in refused and "OK:" not in refused, refused
    replies = said(await chat.send("treat store as category"))
    assert "OK: 'store' will be treated as category." in replies
    assert "Column types now" in replies and chat.menu().text == "Which analysis?"
    await chat.press("Test")
    assert "store (categorical)" in [o.label for o in chat.menu().options]
    await chat.send("salary")
    text = said(await chat.send("store"))
    assert "Paired" not in text  # two numbers would ask whether they are paired
    assert "One-way ANOVA" in text and "\n112 " in text, text  # a row per store


async def test_stats_without_the_correction_treats_the_code_as_a_number(
    chat: ChatDriver, tmp_path: Path
) -> None:
    await chat.send("/stats")
    await chat.upload(_staff(tmp_path))
    await chat.press("Test")
    labels = [o.label for o in chat.menu().options]
    assert "store (integer)" in labels and "store (categorical)" not in labels
    await chat.send("salary")
    assert "two measurements of the same rows" in said(await chat.send("store"))


async def test_explore_correction_shows_levels_instead_of_a_histogram(
    chat: ChatDriver, tmp_path: Path
) -> None:
    await chat.send("/explore")
    await chat.upload(_staff(tmp_path))
    assert "treat zip as category" in chat.menu().text
    replies = said(await chat.send("store: category"))
    assert "OK: 'store' will be treated as category." in replies
    assert "store (categorical)" in [o.label for o in chat.menu().options]
    text = said(await chat.send("store"))
    assert "*store*: 12 distinct values in 60 rows." in text
