"""/describe through the real engine (StateManager on the memory store) and real services."""

from __future__ import annotations

import csv
import json
import re
import shlex
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from statbot.config import load_settings
from statbot.engine.events import ConversationKey, Event, EventKind, Upload
from statbot.engine.manager import StateManager
from statbot.engine.replies import DONE_OPTION, OutboxItem, Reply, ReplyKind
from statbot.engine.stores.memory import MemoryStore
from statbot.workflows import default_registry
from statbot.workflows.services import Services

KEY = ConversationKey("test", 5, 5)
PRICE = [3.5, 1.25, 9.0, 4.75, 2.0]
WEIGHT = [10, 30, 20, 50, 40]


@dataclass
class Chat:
    manager: StateManager
    tmp: Path
    replies: list[Reply] = field(default_factory=list)
    update_id: int = 0

    async def deliver(self, key: str, items: list[OutboxItem]) -> list[int]:
        self.replies.extend(item.reply for item in items)
        return [item.seq for item in items]

    async def send(self, kind: EventKind, **fields: Any) -> list[Reply]:
        self.update_id += 1
        before = len(self.replies)
        await self.manager.submit(Event.from_update(KEY, self.update_id, kind, **fields))
        await self.manager.drain()
        return self.replies[before:]

    async def text(self, text: str) -> list[Reply]:
        return await self.send(EventKind.TEXT, text=text)

    async def pick(self, choice: str) -> list[Reply]:
        return await self.send(EventKind.CHOICE, choice=choice, token=self.menu().token)

    async def upload(self, path: Path) -> list[Reply]:
        upload = Upload(path.name, file_size(path), path=str(path))
        return await self.send(EventKind.UPLOAD, upload=upload)

    def menu(self) -> Reply:
        return next(r for r in reversed(self.replies) if r.kind is ReplyKind.CHOICES)


def run_cli(command: str, cwd: Path) -> dict[str, Any]:
    argv = shlex.split(command)
    binary = Path(sys.executable).with_name(argv[0])
    out = subprocess.run(
        [str(binary), *argv[1:]], cwd=cwd, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def file_size(path: Path) -> int:
    return path.stat().st_size


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


async def make_chat(tmp_path: Path, **settings: Any) -> AsyncIterator[Chat]:
    data_dir = tmp_path / "var"
    services = Services(settings=load_settings(data_dir=data_dir, **settings), data_dir=data_dir)
    manager = StateManager(MemoryStore(), default_registry(), services=services)
    chat = Chat(manager, tmp_path)
    manager.set_deliverer(chat.deliver)
    await manager.start()
    try:
        yield chat
    finally:
        await manager.stop()


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    async for c in make_chat(tmp_path):
        yield c


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def test_upload_tick_done_reports_numbers_and_a_csv(chat: Chat, table: Path) -> None:
    assert "Send me a CSV file" in texts(await chat.send(EventKind.COMMAND, text="describe"))
    shown = await chat.upload(table)
    assert "*shop.csv*: 5 rows × 3 columns." in texts(shown)
    assert "`item` (other), `price` (numeric), `weight` (numeric)" in texts(shown)
    menu = chat.menu()
    assert menu.multi and [o.label for o in menu.options] == ["price", "weight"]
    assert menu.token  # the engine binds the buttons to this step
    ticked = await chat.pick("c1")
    assert ticked[-1].selected == ("c1",)
    unticked = await chat.pick("c1")
    assert unticked[-1].selected == ()
    assert "at least one column" in texts(await chat.pick(DONE_OPTION))
    await chat.pick("c0")
    await chat.pick("c1")
    report = await chat.pick(DONE_OPTION)
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
    session = await chat.manager.store.load(KEY)
    assert session is not None and session.workflow is None  # finished
    assert "path" not in session.data  # only references while running, nothing left after
    # The report names the command that prints the same numbers; run it.
    line = re.search(r"command line: `(statbot analyze [^`]+)`", text)
    assert line is not None
    assert line.group(1) == "statbot analyze describe shop.csv --columns price,weight --json"
    cli = run_cli(line.group(1), cwd=table.parent)
    assert cli["price"]["mean"] == float(rows[0]["mean"])
    assert cli["weight"]["std"] == float(rows[1]["std"])


async def test_typed_answers_all_except_and_suggestions(chat: Chat, table: Path) -> None:
    await chat.send(EventKind.COMMAND, text="describe")
    await chat.upload(table)
    assert "Did you mean 'price'?" in texts(await chat.text("prise"))
    report = texts(await chat.text("all except price"))
    assert "`weight`: count 5" in report and "`price`" not in report.split("column(s):")[1]


async def test_back_returns_to_the_file_step(chat: Chat, table: Path) -> None:
    await chat.send(EventKind.COMMAND, text="describe")
    await chat.upload(table)
    again = await chat.send(EventKind.COMMAND, text="back")
    assert "Send me a CSV file" in texts(again)
    session = await chat.manager.store.load(KEY)
    assert session is not None and session.state == "file"


async def test_files_it_cannot_use_are_explained(chat: Chat, tmp_path: Path) -> None:
    await chat.send(EventKind.COMMAND, text="describe")
    words = tmp_path / "words.csv"
    words.write_text("name,colour\nann,red\nbob,blue\n")
    assert "no numeric values" in texts(await chat.upload(words))
    pdf = tmp_path / "report.csv"
    pdf.write_bytes(b"%PDF-1.7\n\x00\x01binary")
    assert "PDF" in texts(await chat.upload(pdf))
    assert "Send me a CSV file" in texts(await chat.text("hello"))
    refused = texts(await chat.text("/etc/passwd"))
    assert "turned off" in refused  # no STATBOT_LOCAL_PATH_ROOTS configured
    session = await chat.manager.store.load(KEY)
    assert session is not None and session.state == "file"


async def test_server_paths_inside_the_allowed_roots(tmp_path: Path, table: Path) -> None:
    async for chat in make_chat(tmp_path, local_path_roots=(tmp_path,)):
        await chat.send(EventKind.COMMAND, text="describe")
        assert "5 rows × 3 columns" in texts(await chat.text(str(table)))
        assert "`weight`: count 5" in texts(await chat.text("weight"))
