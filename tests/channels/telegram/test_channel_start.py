"""Starting the channel against the sandbox: an open bot is announced as a warning (issue 6)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from statbot.app import EXIT_FAILED, run_app
from statbot.channels.telegram.channel import TelegramChannel
from statbot.engine.events import Event
from statbot.errors import ChannelError
from statbot.ops.metrics import Metrics
from statbot.sandbox.server import RunningSandbox
from tests.channels.telegram.conftest import bot_settings


async def _journal(event: Event) -> bool:
    return True


async def _start(settings_dir: Path, api_url: str, **extra: object) -> None:
    channel = TelegramChannel(bot_settings(api_url, settings_dir, **extra), _journal, Metrics())
    try:
        await channel.initialize()
    finally:
        await channel.shutdown()


def _open_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "STATBOT_ALLOWED_USERS" in r.getMessage()
    ]


async def test_an_open_bot_warns_at_start(
    sandbox: RunningSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="statbot")
    await _start(tmp_path, sandbox.api_url)
    assert len(_open_warnings(caplog)) == 1


async def test_an_allow_list_starts_quietly(
    sandbox: RunningSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="statbot")
    await _start(tmp_path, sandbox.api_url, allowed_users=(42,))
    assert _open_warnings(caplog) == []


async def test_webhook_mode_without_a_secret_refuses_to_start(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = bot_settings(sandbox.api_url, tmp_path, webhook_url="https://bot.example.org/hook")
    channel = TelegramChannel(settings, _journal, Metrics())
    try:
        await channel.initialize()
        with pytest.raises(ChannelError, match="STATBOT_WEBHOOK_SECRET"):
            await channel.start()
        assert channel.webhook is None  # nothing listens
    finally:
        await channel.shutdown()


async def test_statbot_run_says_why_it_cannot_start(
    sandbox: RunningSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A start-up refusal in words and exit code 1, not a traceback out of asyncio.run.
    settings = bot_settings(
        sandbox.api_url, tmp_path, webhook_url="https://bot.example.org/hook", health_port=0
    )
    assert await run_app(settings) == EXIT_FAILED
    critical = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert any("STATBOT_WEBHOOK_SECRET" in m for m in critical), critical
