"""TelegramFiles.fetch: the disk side of a download never runs on the event loop.

A local Bot API server (which lifts the 20 MB limit, so files can be GBs) answers getFile with
an absolute path on this machine, and python-telegram-bot's ``download_to_drive`` then copies
that file on the event loop, stalling every conversation and the health server meanwhile.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot

from statbot.channels.telegram.files import TelegramFiles
from statbot.engine.events import Upload
from statbot.errors import ChannelError

TOKEN = "123456:FILES"


async def _fake_api(file_path: str | None, payload: bytes) -> AsyncIterator[str]:
    async def get_file(request: web.Request) -> web.Response:
        result: dict[str, Any] = {"file_id": "F1", "file_unique_id": "U1", "file_size": 5}
        if file_path is not None:
            result["file_path"] = file_path
        return web.json_response({"ok": True, "result": result})

    async def download(request: web.Request) -> web.Response:
        return web.Response(body=payload)

    async def get_me(request: web.Request) -> web.Response:
        me = {"id": 123456, "is_bot": True, "first_name": "statbot", "username": "statbot"}
        return web.json_response({"ok": True, "result": me})

    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/getMe", get_me)
    app.router.add_post(f"/bot{TOKEN}/getFile", get_file)
    app.router.add_get(f"/file/bot{TOKEN}/{{path:.+}}", download)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _bot(url: str) -> Bot:
    return Bot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")


UPLOAD = Upload(file_name="data.csv", size=5, file_id="F1")


async def test_a_local_server_file_is_copied_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "server-side.csv"
    source.write_bytes(b"a,b\n1,2\n")
    copied_in: list[threading.Thread] = []
    real_copy = shutil.copyfile

    def recording_copy(src: Any, dst: Any, **kwargs: Any) -> Any:
        copied_in.append(threading.current_thread())
        return real_copy(src, dst, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", recording_copy)
    async for url in _fake_api(str(source), b"unused"):
        async with _bot(url) as bot:
            target = await TelegramFiles(bot).fetch(UPLOAD, tmp_path / "staging")
    assert target.read_bytes() == b"a,b\n1,2\n"
    assert copied_in and all(t is not threading.main_thread() for t in copied_in)


async def test_a_cloud_file_is_downloaded_into_staging(tmp_path: Path) -> None:
    async for url in _fake_api("documents/file_1.csv", b"x,y\n3,4\n"):
        async with _bot(url) as bot:
            target = await TelegramFiles(bot).fetch(UPLOAD, tmp_path / "staging")
    assert target == tmp_path / "staging" / "data.csv"
    assert target.read_bytes() == b"x,y\n3,4\n"


async def test_no_file_path_is_said_in_words(tmp_path: Path) -> None:
    async for url in _fake_api(None, b""):
        async with _bot(url) as bot:
            with pytest.raises(ChannelError) as info:
                await TelegramFiles(bot).fetch(UPLOAD, tmp_path / "staging")
    assert "send it again" in info.value.user_message
