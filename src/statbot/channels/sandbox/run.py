"""``statbot run`` without a token: the sandbox and the real bot against it, in one process.

The bot is unchanged: it gets the sandbox's fixed token and ``telegram_api_url`` pointing at the
sandbox, exactly as it would point at a local Bot API server (issue #5: a newcomer chats with the
bot in a browser a minute after cloning).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import SecretStr

from statbot.channels.sandbox.server import run_sandbox
from statbot.channels.sandbox.state import DEFAULT_TOKEN

if TYPE_CHECKING:
    from statbot.config import Settings

log = logging.getLogger(__name__)


def sandboxed_settings(settings: Settings, api_url: str) -> Settings:
    """The bot's settings when it talks to the sandbox at ``api_url`` instead of Telegram."""
    return settings.model_copy(
        update={"telegram_token": SecretStr(DEFAULT_TOKEN), "telegram_api_url": api_url}
    )


async def run_with_sandbox(
    settings: Settings, announce: Callable[[str], None] | None = None
) -> int:
    """Serve the sandbox on ``settings.sandbox_port`` and run the bot against it until stopped."""
    from statbot.app import run_app

    async with run_sandbox(host="127.0.0.1", port=settings.sandbox_port) as sandbox:
        message = f"open {sandbox.page_url} to chat with the bot (local sandbox, no Telegram)"
        if announce is not None:
            announce(message)
        else:
            log.info("%s", message)
        return await run_app(sandboxed_settings(settings, sandbox.api_url))
