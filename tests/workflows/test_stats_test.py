"""/stats' test steps through the ChatDriver on real data: paired columns asked (and suggested
for before/after names), a one-sample value typed, the rank test one press away, a contingency
table with percentages (statsmodels' fair data) — each reproduced by its `statbot analyze` line,
whose report is the chat's text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.datasets import fair
from tests.workflows.test_stats import of_kind, report_in_chat, run_line, said

from statbot.engine.replies import ReplyKind
from statbot.testing import ChatDriver


async def _upload(chat: ChatDriver, path: Path) -> None:
    await chat.send("/stats")
    await chat.upload(path)
    await chat.press("Test")


def _weights(tmp_path: Path) -> Path:
    rng = np.random.default_rng(12)
    before = rng.normal(82, 9, 30).round(1)
    frame = pd.DataFrame(
        {
            "weight_before": before,
            "weight_after": (before - rng.normal(1.5, 1.2, 30)).round(1),
            "height": rng.normal(175, 8, 30).round(1),
        }
    )
    path = tmp_path / "diet.csv"
    frame.to_csv(path, index=False)
    return path


async def test_before_after_columns_are_asked_paired_and_suggested(
    chat: ChatDriver, tmp_path: Path
) -> None:
    path = _weights(tmp_path)
    await _upload(chat, path)
    await chat.send("weight_before")
    asked = said(await chat.send("weight_after"))
    assert "two measurements of the same rows" in asked
    assert "Paired looks likely" in asked and "same 30 rows" in asked
    assert [o.label for o in chat.menu().options] == ["Paired (suggested)", "Independent samples"]
    assert "Press *Paired*" in said(await chat.send("maybe"))
    replies = await chat.press("Paired (suggested)")
    text = said(replies)
    assert "Test: paired t-test" in text and "Paired with weight_after, weight_before" in text
    assert "lower" not in text.split("Test:")[0]  # the diet lowered the weight: before is higher
    assert "--a weight_before --b weight_after --paired --json" in text
    assert [r.text for r in of_kind(replies, ReplyKind.IMAGE)] == ["weight_before and weight_after"]
    cli = run_line(replies, path.parent)
    assert cli["test"] == "paired t-test" and cli["groups"]["difference"]["mean"] > 0
    report_in_chat(cli, replies)
    # the same pair as independent samples, and the paired test is named in a note
    await chat.press("Another")
    await chat.press("Test")
    await chat.send("weight_before")
    await chat.send("weight_after")
    text = said(await chat.press("Independent samples"))
    assert "Welch two-sample t-test" in text and "the paired test compares them" in text


async def test_unrelated_numeric_columns_are_asked_without_a_suggestion(
    chat: ChatDriver, tmp_path: Path
) -> None:
    await _upload(chat, _weights(tmp_path))
    await chat.send("height")
    asked = said(await chat.send("weight_after"))
    assert "Paired looks likely" not in asked
    assert [o.label for o in chat.menu().options] == ["Paired (same rows)", "Independent samples"]
    assert "Welch two-sample t-test" in said(await chat.send("independent"))


async def test_one_sample_against_a_typed_value(chat: ChatDriver, tmp_path: Path) -> None:
    path = _weights(tmp_path)
    await _upload(chat, path)
    await chat.send("height")
    await chat.send("none")
    replies = await chat.send("172,5")  # a decimal comma
    text = said(replies)
    assert "than 172.5;" in text.split("Test:")[0]
    assert "--a height --mu 172.5 --json" in text
    cli = run_line(replies, path.parent)
    report_in_chat(cli, replies)


def _fair_csv(tmp_path: Path) -> Path:
    frame = fair.load_pandas().data
    frame = frame.assign(
        occupation=frame["occupation"].map(
            {1: "student", 2: "farming", 3: "white collar", 4: "teacher", 5: "manager", 6: "prof"}
        ),
        religious=frame["religious"].map({1: "not", 2: "mildly", 3: "fairly", 4: "strongly"}),
        affair=np.where(frame["affairs"] > 0, "yes", "no"),
    )
    path = tmp_path / "fair.csv"
    frame.to_csv(path, index=False)
    return path


async def test_groups_then_the_rank_test_one_press_away(chat: ChatDriver, tmp_path: Path) -> None:
    path = _fair_csv(tmp_path)
    await _upload(chat, path)
    await chat.send("affairs")
    replies = await chat.send("occupation")
    text = said(replies)
    assert text.startswith("`\ngroup")
    assert "Pairwise comparisons (Games-Howell" in text and "adjusted p" in text
    assert "not normally distributed: the comparison of means may be off" in text
    assert "The rank-based alternative, the Kruskal-Wallis test, can be chosen" in text
    assert chat.menu().options[0].label == "Use Kruskal-Wallis test"
    report_in_chat(run_line(replies, path.parent), replies)
    ranks = await chat.press("Use Kruskal-Wallis test")
    text = said(ranks)
    assert "Test: Kruskal-Wallis test" in text and "instead of" not in text
    assert "--a affairs --b occupation --method ranks --json" in text
    report_in_chat(run_line(ranks, path.parent), ranks)
    assert chat.menu().options[0].label == "Use ANOVA (classic or Welch's)"
    assert "Test: " in said(await chat.send("means"))


async def test_two_categories_give_the_table_with_percentages(
    chat: ChatDriver, tmp_path: Path
) -> None:
    path = _fair_csv(tmp_path)
    await _upload(chat, path)
    await chat.send("religious")
    replies = await chat.send("affair")
    text = said(replies)
    assert "religious \\ affair" in text and "row %" in text and "col %" in text
    assert "Test: chi-square test of independence" in text and "Cramér's V" in text
    docs = [Path(d.path or "").stem for d in of_kind(replies, ReplyKind.DOCUMENT)]
    assert any(stem.endswith("crosstab") for stem in docs)
    report_in_chat(run_line(replies, path.parent), replies)
