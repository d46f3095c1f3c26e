"""/stats through the ChatDriver on the real engine: every analysis, its CSV documents, charts
and the `statbot analyze` line (run and compared), and the mistakes users make."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from statbot.engine.replies import Reply, ReplyKind
from statbot.testing import ChatDriver

NUMERIC = ("sepal_length", "sepal_width", "petal_length", "petal_width")


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def of_kind(replies: list[Reply], kind: ReplyKind) -> list[Reply]:
    return [r for r in replies if r.kind is kind]


def run_line(replies: list[Reply], cwd: Path) -> dict[str, Any]:
    match = re.search(r"`(statbot analyze [^`]+)`", said(replies))
    assert match is not None, said(replies)
    argv = shlex.split(match.group(1))
    binary = Path(sys.executable).with_name(argv[0])
    out = subprocess.run(
        [str(binary), *argv[1:]], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def csv_docs(replies: list[Reply]) -> list[Reply]:
    """The tables sent as CSV (the HTML report is a document too)."""
    docs = of_kind(replies, ReplyKind.DOCUMENT)
    return [r for r in docs if (r.file_name or "").endswith(".csv")]


def png(reply: Reply) -> bool:
    return Path(reply.path or "").read_bytes()[:4] == b"\x89PNG"


async def start(chat: ChatDriver, path: Path) -> None:
    assert "Let's look at your data" in said(await chat.send("/stats"))
    assert "150 rows × 5 columns" in said(await chat.upload(path))
    assert chat.menu().text == "Which analysis?"


async def test_describe_sends_text_chart_csv_and_the_cli_line(
    chat: ChatDriver, iris_csv: Path
) -> None:
    await start(chat, iris_csv)
    await chat.press("Describe")
    replies = await chat.send("sepal_length, species")
    text = said(replies)
    assert "`sepal_length`: n 150, mean 5.843" in text
    assert "`species`: n 150, 3 levels" in text
    images = of_kind(replies, ReplyKind.IMAGE)
    assert len(images) == 1 and png(images[0])
    [doc] = csv_docs(replies)
    table = pd.read_csv(doc.path or "")
    assert list(table["column"]) == ["sepal_length", "species"]
    cli = run_line(replies, iris_csv.parent)
    assert table.loc[0, "mean"] == cli["sepal_length"]["mean"]  # full precision in the CSV
    assert Path(doc.path or "").parent == chat.data_dir / "results" / str(chat.key.user_id)
    assert "Another analysis" in [o.label for o in chat.menu().options]
    assert "Done." in said(await chat.press("Done"))
    assert await chat.state() == (None, None)


def report_in_chat(cli: dict[str, Any], replies: list[Reply]) -> None:
    """Every line of the CLI's report is in the chat's text (one code path for both)."""
    text = said(replies)
    for block in cli["report"]:
        assert block in text, block


async def test_correlation_heatmap_matrix_and_pairs(chat: ChatDriver, iris_csv: Path) -> None:
    await start(chat, iris_csv)
    await chat.send("correlation")  # typed instead of pressed
    labels = [o.label for o in chat.menu().options]
    assert labels == [f"{c} (numeric)" for c in NUMERIC]
    assert "at least 2 columns" in said(await chat.send("petal_width"))
    replies = await chat.press("Done")
    assert "Choose at least 2" not in said(replies)
    text = said(replies)
    assert "strongest Pearson r first (Spearman ρ and Kendall τ beside it)" in text
    row = next(line for line in text.splitlines() if line.startswith("petal_length ~ petal_width"))
    assert row.split()[3:5] == ["0.9629", "<0.001"]
    assert [r.text for r in of_kind(replies, ReplyKind.IMAGE)] == ["Correlation heatmap"]
    pairs, matrix = (pd.read_csv(d.path or "") for d in csv_docs(replies))
    assert len(pairs) == 6 and matrix.shape == (4, 5)
    cli = run_line(replies, iris_csv.parent)
    report_in_chat(cli, replies)
    mine = pairs[(pairs.a == "petal_length") & (pairs.b == "petal_width")].iloc[0]
    theirs = next(p for p in cli["pairs"] if (p["a"], p["b"]) == ("petal_length", "petal_width"))
    assert mine["pearson"] == theirs["pearson"] and mine["kendall"] == theirs["kendall"]


async def test_tests_are_chosen_from_types_and_fallbacks_said(
    chat: ChatDriver, iris_csv: Path
) -> None:
    await start(chat, iris_csv)
    await chat.press("Test")
    await chat.send("sepal_length")
    replies = await chat.send("species")
    text = said(replies)
    assert text.startswith("`\ngroup        n   mean      sd  median  95% CI of mean\nsetosa")
    assert "Welch's ANOVA" in text and "Why this test" in text and "equal variances" in text
    assert "Pairwise comparisons (Games-Howell" in text
    assert [r.text for r in of_kind(replies, ReplyKind.IMAGE)] == ["sepal_length by species"]
    docs = {Path(d.path or "").stem.rsplit("-", 1)[-1]: d for d in csv_docs(replies)}
    assert set(docs) == {"test", "groups", "pairs"}
    assert pd.read_csv(docs["test"].path or "").loc[0, "test"] == "Welch's ANOVA"
    assert len(pd.read_csv(docs["pairs"].path or "")) == 3
    assert "`statbot analyze test iris.csv --a sepal_length --b species --json`" in text
    report_in_chat(run_line(replies, iris_csv.parent), replies)
    await chat.press("Another")
    await chat.press("Test")
    await chat.send("petal_width")
    asked = said(await chat.send("none"))
    assert "against which value?" in asked and [o.label for o in chat.menu().options] == ["0"]
    assert "Please type a number" in said(await chat.send("zero"))
    one = said(await chat.press("0"))
    assert "one-sample t-test" in one and "than 0" in one
    assert "the rank test (Wilcoxon signed-rank) is available as an option" in one
    assert "--a petal_width --json" in one
    session = await chat.manager.store.load(chat.key)
    assert session is not None and session.context["result"]["analysis"] == "test"


async def test_regression_ols_residuals_and_logistic(chat: ChatDriver, iris_csv: Path) -> None:
    await start(chat, iris_csv)
    await chat.press("Regression")
    refused = said(await chat.send("species"))
    assert "'species' has 3 categories" in refused and "logistic" in refused
    await chat.send("petal_length")
    replies = await chat.send("sepal_length, sepal_width")
    assert "Linear regression of petal_length on 2 predictors, n = 150" in said(replies)
    assert [r.text for r in of_kind(replies, ReplyKind.IMAGE)] == [
        "Residuals vs fitted (the most influential rows labelled)",
        "Normal Q-Q of the standardised residuals",
    ]
    doc, _ = csv_docs(replies)
    cli = run_line(replies, iris_csv.parent)
    table = pd.read_csv(doc.path or "")
    assert cli["r_squared"] == pytest.approx(0.868, abs=1e-3)
    assert len(table) == 3
    # a binary target: logistic regression
    binary = iris_csv.parent / "two.csv"
    frame = pd.read_csv(iris_csv)
    frame["big"] = (frame["petal_length"] > 4.2).map({True: "yes", False: "no"})
    frame.to_csv(binary, index=False)
    await chat.send("/stats")
    await chat.upload(binary)
    await chat.press("Regression")
    await chat.send("big")
    replies = await chat.send("sepal_width")
    assert "Logistic regression of the probability that big = yes" in said(replies)
    assert "the probability that big = yes" in said(replies)
    assert "statbot analyze logit two.csv --target big --features sepal_width" in said(replies)


async def test_mistakes_stale_buttons_back_and_cancel(chat: ChatDriver, iris_csv: Path) -> None:
    await chat.send("/stats")
    assert "I need a data file" in said(await chat.send("what?"))
    await chat.upload(iris_csv)
    old = chat.menu().token
    assert "Did you mean 'Describe'" in said(await chat.send("descrbe"))
    await chat.press("Test")
    stale = said(await chat.press_id("describe", token=old))
    assert "This menu is out of date" in stale and "which variable first" in stale
    assert "Did you mean 'sepal_width'" in said(await chat.send("sepal_wdth"))
    assert "Which analysis?" in said(await chat.send("/back"))
    await chat.press("Describe")
    assert "Tick columns" in said(await chat.send("/help"))
    assert "cancel" in said(await chat.send("/cancel")).lower()
    assert await chat.state() == (None, None)
    # the last dataset is offered the next time
    await chat.send("/stats")
    assert "150 rows" in said(await chat.press("Use iris.csv"))


async def test_one_column_file(chat: ChatDriver, tmp_path: Path) -> None:
    one = tmp_path / "one.csv"
    one.write_text("x\n" + "".join(f"{i * 1.5}\n" for i in range(10)))
    await chat.send("/stats")
    await chat.upload(one)
    refused = said(await chat.press("Correlation"))
    assert "at least two numeric columns" in refused and "Which analysis?" in refused
    await chat.press("Describe")
    assert [o.label for o in chat.menu().options] == ["x (numeric)"]
    described = said(await chat.press("Done"))
    assert "`x`: n 10, mean 6.75" in described


async def test_wrong_kinds_of_input_are_explained(chat: ChatDriver, iris_csv: Path) -> None:
    await start(chat, iris_csv)
    # a file where a button was expected: the step says what it needs and asks again
    again = said(await chat.upload(iris_csv))
    assert "Which analysis?" in again
    await chat.press("Test")
    await chat.send("species")
    refused = said(await chat.send("none"))  # a one-sample test of a category cannot run
    assert '"species" is not numeric' in refused
    assert await chat.state() == ("stats", "var_b")
    assert "Anything else" in said(await chat.send("sepal_width"))
    assert "Press *Another analysis* or *Done*" in said(await chat.send("hmm"))
