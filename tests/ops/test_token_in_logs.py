"""The bot token never reaches the log (STYLE.md habit 9), even at DEBUG with an upload: the
Bot API URLs (``/bot<token>/…`` and ``/file/bot<token>/…``) are what HTTP libraries log."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from statbot.sandbox.client import SandboxClient
from tests.ops.procs import TOKEN, kill_quietly, start_bot, start_sandbox


async def _converse(port: int) -> None:
    async with SandboxClient(f"http://127.0.0.1:{port}") as client:
        await client.send("/describe")
        await client.wait(bot_messages=1, within=30)
        await client.upload(b"price,rooms\n1.5,1\n2.5,2\n3.5,3\n4.5,1\n", "prices.csv")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the bot fetched the file and answered
            chat = await client.wait_idle(300, within=30)
            if len(chat.bot_messages) >= 2:
                return
            await asyncio.sleep(0.2)
        raise AssertionError("the bot did not answer the upload")


def test_debug_log_of_a_conversation_with_an_upload_holds_no_token(tmp_path: Path) -> None:
    sandbox = start_sandbox(tmp_path)
    bot = None
    try:
        api = f"http://127.0.0.1:{sandbox.port}"
        bot = start_bot(api, tmp_path / "data", tmp_path / "bot.log", STATBOT_LOG_LEVEL="DEBUG")
        asyncio.run(_converse(sandbox.port))
        assert bot.stop(signal.SIGTERM) == 0
        log = bot.text()
        # The log did cover the download, and PTB did log the URLs that carry the token:
        # without these lines the token checks below hold whatever the code does.
        assert "Calling Bot API endpoint `getFile`" in log
        assert "Set Bot API URL: " in log and "Set Bot API File URL: " in log
        assert TOKEN not in log
        assert TOKEN.split(":")[1] not in log, [
            line for line in log.splitlines() if TOKEN.split(":")[1] in line
        ][:5]
        assert "/bot***" in log and "/file/bot***" in log  # redacted, not left out
    finally:
        kill_quietly(bot, sandbox)
