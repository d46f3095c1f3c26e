"""The sandbox keeps its state in a folder across restarts (issue 9, 2a): update ids continue,
chats, files and the page's feed come back, the port is reused, a damaged snapshot is set aside."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from statbot.sandbox import RunningSandbox, run_sandbox
from statbot.sandbox.persist import choose_port, remembered_port

from .conftest import TOKEN

OTHER = "654321:OTHER"
CSV = b"x,y\n1,2\n3,4\n"


@asynccontextmanager
async def bot_for(sandbox: RunningSandbox) -> AsyncIterator[telegram.Bot]:
    """The real python-telegram-bot client, pointed at ``sandbox``."""
    api = sandbox.api_url
    async with telegram.Bot(
        TOKEN, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot"
    ) as client:
        yield client


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.upper(), callback_data=d)] for d in data])


async def feed(sandbox: RunningSandbox, since: int = 0) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{sandbox.base_url}/_sandbox/events?since={since}&timeout=0") as response,
    ):
        body: dict[str, Any] = await response.json()
        return body


def snapshot(state_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((state_dir / "state.json").read_text("utf-8"))
    return data


async def test_restart_continues_where_it_stopped(tmp_path: Path) -> None:
    state_dir = tmp_path / "sandbox"
    async with run_sandbox(state_dir=state_dir) as first:
        port = first.port
        client = first.client
        start_id = await client.send("/start")
        async with bot_for(first) as bot:
            await bot.set_my_commands([("start", "Say hello"), ("train", "Train a model")])
            (start,) = await bot.get_updates(timeout=0)
            assert start.update_id == start_id and start.effective_chat is not None
            alice = start.effective_chat.id
            menu = await bot.send_message(alice, "<b>Pick</b>", parse_mode="HTML")
            await bot.edit_message_text(
                "<b>Pick</b> a model",
                chat_id=alice,
                message_id=menu.message_id,
                parse_mode="HTML",
                reply_markup=keyboard("rf", "ols"),
            )
            upload_id = await client.upload(CSV, "data.csv", caption="my data")
            press_id = await client.press(menu.message_id, "ols")
            # Confirm /start and the upload; the press stays pending across the restart.
            upload, _press = await bot.get_updates(offset=start_id + 1, timeout=0)
            assert upload.message is not None and upload.message.document is not None
            csv_file_id = upload.message.document.file_id
            assert len(await bot.get_updates(offset=upload_id + 1, timeout=0)) == 1
            report = await bot.send_document(alice, b"R2 = 0.93", filename="report.txt")
            assert report.document is not None
            report_file_id = report.document.file_id
        before = await client.chat()
        events_before = await feed(first)
    saved = snapshot(state_dir)
    assert saved["format"] == 1 and TOKEN not in json.dumps(saved)  # no token in the file
    assert remembered_port(state_dir) == port
    assert choose_port(0, remembered_port(state_dir)) == port

    async with run_sandbox(port=port, state_dir=state_dir) as second:
        after = await second.client.chat()
        assert after.raw["messages"] == before.raw["messages"]
        assert [m.text for m in after.messages if m.text] == ["/start", "Pick a model"]
        assert after.messages[1].edited and after.messages[1].button_data == ["rf", "ols"]
        assert after.commands == before.commands and after.commands[1]["command"] == "train"
        assert await feed(second) == events_before  # the page's history and its seq
        async with bot_for(second) as bot:
            (pending,) = await bot.get_updates(offset=upload_id + 1, timeout=0)
            assert pending.update_id == press_id and pending.callback_query is not None
            assert pending.callback_query.data == "ols"
            assert await pending.callback_query.answer("OLS it is")
            help_id = await second.client.send("/help")
            assert help_id == press_id + 1  # ids continue: the engine would drop a reused one
            (fresh,) = await bot.get_updates(offset=press_id + 1, timeout=0)
            assert fresh.message is not None
            assert fresh.message.message_id == before.messages[-1].message_id + 1
            csv_file = await bot.get_file(csv_file_id)
            assert bytes(await csv_file.download_as_bytearray()) == CSV
            report_file = await bot.get_file(report_file_id)
            assert bytes(await report_file.download_as_bytearray()) == b"R2 = 0.93"
            # A file uploaded now must not overwrite one kept from before.
            await second.client.upload(b"new", "data.csv")
            await bot.get_updates(offset=help_id + 1, timeout=0)
        documents = [m.document for m in (await second.client.chat()).messages if m.document]
        contents = [await second.client.download(d["url"]) for d in documents]
        assert contents == [CSV, b"R2 = 0.93", b"new"]
        assert (await second.client.chat()).callback_answers[0]["text"] == "OLS it is"


async def test_changes_are_saved_while_running(tmp_path: Path) -> None:
    """Not only at shutdown: a crash loses at most the last half second or so."""
    state_dir = tmp_path / "sandbox"
    async with run_sandbox(state_dir=state_dir) as sandbox:
        await sandbox.client.send("first words")
        assert not (state_dir / "state.json").exists()  # not yet: saving is debounced
        await wait_saved(state_dir, "first words")
        # A confirmed getUpdates offset publishes no event; it must be saved all the same.
        async with bot_for(sandbox) as bot:
            await bot.get_updates(offset=2, timeout=0)
        for _ in range(50):
            if not snapshot(state_dir)["bots"][0]["updates"]:
                break
            await asyncio.sleep(0.1)
        assert snapshot(state_dir)["bots"][0]["updates"] == []


async def wait_saved(state_dir: Path, text: str) -> dict[str, Any]:
    """The snapshot on disk, once one of its chats shows a message with ``text``."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if (state_dir / "state.json").exists():
            saved = snapshot(state_dir)
            chats = saved["chats"]
            if any(m["text"] == text for c in chats for m in c["messages"]):
                return saved
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} was not saved within 5 s")


async def test_an_edit_after_a_save_is_saved(tmp_path: Path) -> None:
    """Saved messages' JSON is cached; an edit must still reach the next snapshot."""
    state_dir = tmp_path / "sandbox"
    async with run_sandbox(state_dir=state_dir) as sandbox:
        await sandbox.client.send("/start")
        async with bot_for(sandbox) as bot:
            (start,) = await bot.get_updates(timeout=0)
            assert start.effective_chat is not None
            sent = await bot.send_message(start.effective_chat.id, "Training… 10%")
            await wait_saved(state_dir, "Training… 10%")
            await bot.edit_message_text(
                "Done", chat_id=start.effective_chat.id, message_id=sent.message_id
            )
            saved = await wait_saved(state_dir, "Done")
    (message,) = [m for m in saved["chats"][0]["messages"] if m["from_bot"]]
    assert message["edits"] == 1 and message["edit_date"] >= message["date"] > 0


async def test_a_save_reencodes_only_what_changed(tmp_path: Path) -> None:
    """Thousands of messages must not make each save (in the event loop) slow."""
    from statbot.sandbox.snapshot import Dormant, Encoder

    async with run_sandbox(state_dir=tmp_path / "sandbox") as sandbox:
        for i in range(2000):
            await sandbox.client.send(f"message {i} " + "x" * 200)
        encoder = Encoder()
        started = time.perf_counter()
        cold = "".join(encoder.encode(sandbox.state, Dormant()))
        cold_seconds = time.perf_counter() - started
        await sandbox.client.send("one more")
        started = time.perf_counter()
        warm = "".join(encoder.encode(sandbox.state, Dormant()))
        warm_seconds = time.perf_counter() - started
    assert json.loads(warm)["chats"][0]["messages"][-1]["text"] == "one more"
    assert len(warm) > len(cold)
    assert warm_seconds < cold_seconds / 3, (cold_seconds, warm_seconds)


async def test_damaged_snapshot_is_set_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state_dir = tmp_path / "sandbox"
    state_dir.mkdir()
    (state_dir / "state.json").write_text('{"format": 1, "users": [', "utf-8")
    with caplog.at_level(logging.WARNING, logger="statbot.sandbox.persist"):
        async with run_sandbox(state_dir=state_dir) as sandbox:
            assert await sandbox.client.send("/start") == 1
    (aside,) = state_dir.glob("state.json.damaged-*")
    assert aside.read_text("utf-8") == '{"format": 1, "users": ['
    warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
    assert str(state_dir / "state.json") in warning.getMessage()
    assert snapshot(state_dir)["chats"][0]["messages"][0]["text"] == "/start"


async def test_snapshot_with_dangling_reference_is_set_aside(tmp_path: Path) -> None:
    """Valid JSON, wrong content (a message refers to a file the index lacks): fresh start."""
    state_dir = tmp_path / "sandbox"
    async with run_sandbox(state_dir=state_dir) as sandbox:
        await sandbox.client.upload(CSV, "data.csv")
    broken = snapshot(state_dir)
    broken["files"]["items"] = []
    (state_dir / "state.json").write_text(json.dumps(broken), "utf-8")
    async with run_sandbox(state_dir=state_dir) as sandbox:
        assert (await sandbox.client.chat()).messages == []
        assert await sandbox.client.send("hello") == 1
    assert len(list(state_dir.glob("state.json.damaged-*"))) == 1


async def test_reset_clears_the_saved_state_at_once(tmp_path: Path) -> None:
    state_dir = tmp_path / "sandbox"
    async with run_sandbox(state_dir=state_dir) as sandbox:
        await sandbox.client.send("/start")
        await sandbox.client.upload(CSV, "data.csv")
        await sandbox.client.reset()
        # No waiting for the debounce: a crash right after a reset must not bring chats back.
        saved = snapshot(state_dir)
        assert saved["chats"] == [] and saved["files"]["items"] == []
        assert list((state_dir / "files").iterdir()) == []
    async with run_sandbox(state_dir=state_dir) as sandbox:
        assert (await sandbox.client.chat()).messages == []
        assert await sandbox.client.send("again") == 3  # a reset keeps the update ids going


async def test_chats_of_a_bot_not_served_this_time_are_kept(tmp_path: Path) -> None:
    state_dir = tmp_path / "sandbox"
    async with run_sandbox(token=[TOKEN, OTHER], state_dir=state_dir) as sandbox:
        sandbox.client.bot_id = 654321
        await sandbox.client.send("to the other bot")
    async with run_sandbox(token=[TOKEN], state_dir=state_dir) as sandbox:
        assert (await sandbox.client.chat()).messages == []
        await sandbox.client.send("to the first bot")
    async with run_sandbox(token=[TOKEN, OTHER], state_dir=state_dir) as sandbox:
        sandbox.client.bot_id = 654321
        assert [m.text for m in (await sandbox.client.chat()).messages] == ["to the other bot"]
        sandbox.client.bot_id = 123456
        assert [m.text for m in (await sandbox.client.chat()).messages] == ["to the first bot"]


async def test_webhook_delivery_resumes_after_a_restart(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []
    delivered = asyncio.Event()
    accepting = False

    async def hook(request: web.Request) -> web.Response:
        if not accepting:
            return web.Response(status=503)
        received.append(await request.json())
        delivered.set()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    hook_port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    state_dir = tmp_path / "sandbox"
    try:
        async with run_sandbox(state_dir=state_dir) as sandbox:
            async with bot_for(sandbox) as bot:
                await bot.set_webhook(f"http://127.0.0.1:{hook_port}/hook", secret_token="s3")
            update_id = await sandbox.client.send("/start")
            await asyncio.sleep(0.3)  # delivery fails (503) and the update stays pending
        accepting = True
        async with run_sandbox(state_dir=state_dir) as sandbox:
            await asyncio.wait_for(delivered.wait(), timeout=5)
            assert [u["update_id"] for u in received] == [update_id]
            async with bot_for(sandbox) as bot:
                info = await bot.get_webhook_info()
                assert info.url.endswith("/hook") and info.pending_update_count == 0
    finally:
        await runner.cleanup()


def test_port_choice_prefers_configured_then_remembered() -> None:
    with socket.socket() as taken, socket.socket() as spare:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        spare.bind(("127.0.0.1", 0))
        busy, free = taken.getsockname()[1], spare.getsockname()[1]
        spare.close()
        assert choose_port(free, busy) == free  # the configured port, when free
        assert choose_port(busy, free) == free  # else the one from last time
        assert choose_port(busy, busy) == 0  # else any free port
        assert choose_port(0, free) == free  # 0 configured: last time's, if free
        assert choose_port(0, None) == 0
