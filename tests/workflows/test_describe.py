"""/describe through the ChatDriver: the bot's own wiring on the memory store, real services."""

from __future__ import annotations

import csv
import json
import re
import shlex
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from statbot.engine.replies import DONE_OPTION, Reply, ReplyKind
from statbot.testing import ChatDriver

PRICE = [3.5, 1.25, 9.0, 4.75, 2.0]
WEIGHT = [10, 30, 20, 50, 40]


def run_cli(command: str, cwd: Path) -> dict[str, Any]:
    argv = shlex.split(command)
    binary = Path(sys.executable).with_name(argv[0])
    out = subprocess.run(
        [str(binary), *argv[1:]], cwd=cwd, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "shop.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item", "price", "weight"])
        for i, (p, w) in enumerate(zip(PRICE, WEIGHT, strict=True)):
            writer.writerow([f"item{i}", p, w])
    return path


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def test_upload_tick_done_reports_numbers_and_a_csv(chat: ChatDriver, table: Path) -> None:
    assert "Send me a CSV file" in texts(await chat.send("/describe"))
    shown = await chat.upload(table)
    assert "*shop.csv*: 5 rows × 3 columns." in texts(shown)
    assert "`item` (other), `price` (numeric), `weight` (numeric)" in texts(shown)
    menu = chat.menu()
    assert menu.multi and [o.label for o in menu.options] == ["price", "weight"]
    assert menu.token  # the engine binds the buttons to this step
    ticked = await chat.press_id("c1")
    assert ticked[-1].selected == ("c1",)
    unticked = await chat.press_id("c1")
    assert unticked[-1].selected == ()
    assert "at least one column" in texts(await chat.press_id(DONE_OPTION))
    await chat.press_id("c0")
    await chat.press_id("c1")
    report = await chat.press_id(DONE_OPTION)
    text = texts(report)
    mean, std = statistics.mean(PRICE), statistics.stdev(PRICE)
    assert f"`price`: count 5, mean {mean:.6g}, std {std:.6g}, min 1.25, max 9" in text
    assert "`weight`: count 5, mean 30, std" in text
    document = report[-1]
    assert document.kind is ReplyKind.DOCUMENT and document.file_name == "describe-shop.csv"
    rows = read_rows(Path(document.path or ""))
    assert [r["column"] for r in rows] == ["price", "weight"]
    assert float(rows[0]["mean"]) == mean and float(rows[0]["std"]) == pytest.approx(std)
    assert float(rows[1]["std"]) == pytest.approx(statistics.stdev(WEIGHT))
    session = await chat.manager.store.load(chat.key)
    assert session is not None and session.workflow is None  # finished
    assert "path" not in session.data  # only references while running, nothing left after
    # The report names the command that prints the same numbers; run it.
    line = re.search(r"command line: `(statbot analyze [^`]+)`", text)
    assert line is not None
    assert line.group(1) == "statbot analyze describe shop.csv --columns price,weight --json"
    cli = run_cli(line.group(1), cwd=table.parent)
    assert cli["price"]["mean"] == float(rows[0]["mean"])
    assert cli["weight"]["std"] == float(rows[1]["std"])


async def test_typed_answers_all_except_and_suggestions(chat: ChatDriver, table: Path) -> None:
    await chat.send("/describe")
    await chat.upload(table)
    assert "Did you mean 'price'?" in texts(await chat.text("prise"))
    report = texts(await chat.text("all except price"))
    assert "`weight`: count 5" in report and "`price`" not in report.split("column(s):")[1]


async def test_back_returns_to_the_file_step(chat: ChatDriver, table: Path) -> None:
    await chat.send("/describe")
    await chat.upload(table)
    again = await chat.send("/back")
    assert "Send me a CSV file" in texts(again)
    session = await chat.manager.store.load(chat.key)
    assert session is not None and session.state == "file"


async def test_files_it_cannot_use_are_explained(chat: ChatDriver, tmp_path: Path) -> None:
    await chat.send("/describe")
    words = tmp_path / "words.csv"
    words.write_text("name,colour\nann,red\nbob,blue\n")
    assert "no numeric values" in texts(await chat.upload(words))
    pdf = tmp_path / "report.csv"
    pdf.write_bytes(b"%PDF-1.7\n\x00\x01binary")
    assert "PDF" in texts(await chat.upload(pdf))
    assert "Send me a CSV file" in texts(await chat.text("hello"))
    refused = texts(await chat.text("/etc/passwd"))
    assert "turned off" in refused  # no STATBOT_LOCAL_PATH_ROOTS configured
    session = await chat.manager.store.load(chat.key)
    assert session is not None and session.state == "file"


async def test_server_paths_inside_the_allowed_roots(tmp_path: Path, table: Path) -> None:
    async with ChatDriver(tmp_path / "var", local_path_roots=(tmp_path,)) as chat:
        await chat.send("/describe")
        assert "5 rows × 3 columns" in texts(await chat.text(str(table)))
        assert "`weight`: count 5" in texts(await chat.text("weight"))
