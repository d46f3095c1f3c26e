"""The report to keep, in the chat: every finished /stats and /explore analysis and every
training arrives with one self-contained HTML document (workflows/html_report.py), which says
how the data was read and escapes what the user's file holds."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_diabetes

from statbot.engine.replies import Reply, ReplyKind
from statbot.testing import ChatDriver

HOSTILE = "<script>alert(1)</script>"


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def report_of(replies: list[Reply]) -> tuple[Reply, _Page, str]:
    [doc] = [
        r for r in replies if r.kind is ReplyKind.DOCUMENT and (r.file_name or "").endswith(".html")
    ]
    page = Path(doc.path or "").read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(page)
    return doc, parsed, page


@pytest.fixture
def priced_csv(tmp_path: Path) -> Path:
    """sklearn's diabetes data as a report exported from a spreadsheet: a title line, costs
    in dollars with thousands separators, a hostile column name."""
    frame = load_diabetes(as_frame=True, scaled=False).frame.head(80)
    out = pd.DataFrame(
        {
            "age": frame["age"],
            "cost": [f"${v * 37.25:,.2f}" for v in frame["target"]],
            HOSTILE: frame["bmi"],
        }
    )
    path = tmp_path / "costs.csv"
    path.write_text("Diabetes costs, exported 2024\n" + out.to_csv(index=False))
    return path


async def test_stats_result_comes_with_its_report(chat: ChatDriver, priced_csv: Path) -> None:
    await chat.send("/stats")
    shown = said(await chat.upload(priced_csv))
    assert "80 rows × 3 columns" in shown
    assert "• cost: read as numbers, currency $ removed, thousands separator ','" in shown
    assert "The column names are in row 2 (the rows above it skipped)" in shown  # a guess: asked
    await chat.press("Looks right")
    await chat.press("Describe")
    replies = await chat.send("all")
    doc, parsed, page = report_of(replies)
    assert doc.file_name == "report-describe-costs.html"
    assert "tables, charts" in doc.text
    text = "".join(parsed.text)
    assert "cost: read as numbers, currency $ removed" in text  # how the data was read
    assert "The column names are in row 2" in text
    assert HOSTILE in text and "script" not in parsed.tags
    assert "statbot analyze describe costs.csv" in text
    mean = pd.Series([v * 37.25 for v in load_diabetes().target[:80]]).round(2).mean()
    assert f"{mean:.6g}" in page  # the table's numbers
    # the chat text and the report's summary are the same sentences
    summary = replies[0].text.split("\n")[0]
    assert summary in text


async def test_explore_result_comes_with_its_report(chat: ChatDriver, priced_csv: Path) -> None:
    await chat.send("/explore")
    await chat.upload(priced_csv)
    await chat.press("Looks right")
    replies = await chat.send("cost, age")
    if not any(r.kind is ReplyKind.DOCUMENT for r in replies):
        replies = await chat.press("Done")
    doc, parsed, _ = report_of(replies)
    assert doc.file_name == "report-explore-costs.html"
    assert len(parsed.images) == 2 and all(
        src.startswith("data:image/png;base64,") for src in parsed.images
    )
    assert "statbot analyze describe costs.csv --columns age,cost" in "".join(parsed.text)


@pytest.fixture
async def jobs_chat(tmp_path: Path) -> AsyncIterator[ChatDriver]:
    async with ChatDriver(tmp_path / "var", jobs=True) as driver:
        yield driver


async def test_training_comes_with_its_report(jobs_chat: ChatDriver, priced_csv: Path) -> None:
    chat = jobs_chat
    await chat.send("/train")
    await chat.upload(priced_csv)
    await chat.press("Looks right")  # the column names' row (a title line was skipped)
    await chat.press("Looks right")  # the column types
    await chat.send("cost")
    await chat.send("all")
    await chat.send("linear")
    await chat.press("Train")
    replies = await chat.wait_for(
        lambda rs: any((r.file_name or "").endswith(".html") for r in rs), seconds=120
    )
    doc, parsed, _ = report_of(replies)
    assert re.fullmatch(r"report-model-costs\.html", doc.file_name or "")
    text = "".join(parsed.text)
    assert "Metrics: cross-validation and holdout" in text
    # the file as the user sent it (not the stored copy), read the way the chat read it
    assert "statbot analyze train costs.csv --target cost" in text
    assert HOSTILE in text and "script" not in parsed.tags
    assert parsed.images and all(s.startswith("data:image/png") for s in parsed.images)
