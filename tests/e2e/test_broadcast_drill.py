"""Issue 12, the broadcast crash drill: ``statbot run`` (a real process, polling the sandbox
with the real PTB client) is SIGKILLed in the middle of a broadcast, with one recipient's
sendMessage in flight, and started again: every recipient has the message exactly once (counted
in the sandbox's chats), and the admin is told the final counts.

The sandbox runs in this test's process, so it outlives the bot. It holds the bot's send calls
once some recipients have the message (``hold_sends``), so the kill lands while a request is in
flight and not yet taken — the moment a crash most often hits, as the bot spends its time
waiting on the network and the rate limit. (Killed after Telegram took a message but before the
bot heard back, that one recipient gets it twice: the Bot API has no idempotency key. The
catalog's ``sending`` state names who, and the restart logs it.)"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from statbot.sandbox import run_sandbox
from statbot.sandbox.state import DEFAULT_TOKEN
from tests.ops.procs import free_port
from tests.support.broadcast import (
    catalog_rows,
    confirm_broadcast,
    received,
    sandbox_users,
    sqlite_url,
)
from tests.support.first_run import newcomer_env

pytestmark = pytest.mark.timeout(300)

USERS = 40
TEXT = "The service moves to a new server tonight."


def start_bot(root: Path, api_url: str, run: int) -> tuple[subprocess.Popen[bytes], Path]:
    log = root / f"run-{run}.log"
    env = newcomer_env(
        STATBOT_TELEGRAM_TOKEN=DEFAULT_TOKEN,
        STATBOT_TELEGRAM_API_URL=api_url,
        STATBOT_DATA_DIR=str(root / "var"),
        STATBOT_HEALTH_PORT=str(free_port()),
    )
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", "statbot", "run"],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return popen, log


async def test_sigkill_mid_broadcast_then_restart_sends_each_recipient_once(
    tmp_path: Path,
) -> None:
    async with run_sandbox() as sandbox:
        client, state = sandbox.client, sandbox.state
        ids = await sandbox_users(client, USERS)  # their /start waits for the bot
        admin = ids[0]
        catalog_rows(sqlite_url(tmp_path / "var"), ids, admin)
        bot, log = start_bot(tmp_path, sandbox.api_url, 1)
        try:
            for uid in ids:
                await client.wait_for_bot_messages(1, user_id=uid, within=90)
            await confirm_broadcast(client, admin, TEXT)
            while len(received(state, TEXT)) < 12:
                await state.changed.wait(0.05)
            await client.configure(hold_sends=True)
            while state.held_sends < 1:
                await state.changed.wait(0.05)
            os.kill(bot.pid, signal.SIGKILL)
            assert await asyncio.to_thread(bot.wait, 10) == -signal.SIGKILL
        finally:
            if bot.poll() is None:
                os.kill(bot.pid, signal.SIGKILL)
                bot.wait(10)
        await client.configure(hold_sends=False)  # the held call's client is gone: dropped
        before = received(state, TEXT)
        assert 12 <= len(before) < USERS, len(before)  # killed mid-broadcast

        bot, log = start_bot(tmp_path, sandbox.api_url, 2)
        try:
            chat = await client.wait_for_text("Broadcast #1 finished", user_id=admin, within=120)
            assert bot.poll() is None
            os.kill(bot.pid, signal.SIGTERM)
            assert await asyncio.to_thread(bot.wait, 40) == 0
        finally:
            if bot.poll() is None:
                os.kill(bot.pid, signal.SIGKILL)
                bot.wait(10)
        after = received(state, TEXT)
        assert sorted(after) == sorted(ids)
        preview = {admin: 1}  # the admin saw the text once more, before confirming
        twice = [uid for uid in ids if len(after[uid]) != 1 + preview.get(uid, 0)]
        assert twice == [], f"not exactly once: {twice}"
        report = [m.text for m in chat.bot_messages if "finished:" in (m.text or "")]
        assert report == [f"Broadcast #1 finished: sent to {USERS}, 0 blocked the bot, 0 failed."]
        output = log.read_text(errors="replace")
        assert "continuing 1 unfinished broadcast" in output
        assert "the send to a recipient was interrupted; sending again" in output
