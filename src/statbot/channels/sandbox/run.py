"""``statbot run`` without a token: the sandbox emulator and the unchanged bot, in one process.

The bot is the real one — polling, the Telegram channel, PTB's client — pointed at the emulator
on 127.0.0.1, so a newcomer chats with it in a browser a minute after cloning.
"""

from __future__ import annotations

import logging
import sys

from pydantic import SecretStr

from statbot.config import Settings

log = logging.getLogger(__name__)


async def run_with_sandbox(settings: Settings) -> int:
    from statbot.app import run_app
    from statbot.channels.sandbox.server import run_sandbox
    from statbot.channels.sandbox.state import DEFAULT_TOKEN

    async with run_sandbox(host="127.0.0.1", port=settings.sandbox_port) as sandbox:
        bot_settings = settings.model_copy(
            update={
                "telegram_token": SecretStr(DEFAULT_TOKEN),
                "telegram_api_url": sandbox.api_url,
                "webhook_url": None,
            }
        )
        # The one line a newcomer needs; printed (not logged) so it stands out.
        print(f"statbot sandbox: open {sandbox.page_url} to chat with the bot", flush=True)
        sys.stdout.flush()
        return await run_app(bot_settings, mode_label="sandbox")
