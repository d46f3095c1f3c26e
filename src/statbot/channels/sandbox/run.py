"""``statbot run`` without a token: the sandbox emulator and the unchanged bot, in one process.

The bot is the real one — polling, the Telegram channel, PTB's client — pointed at the emulator
on 127.0.0.1, so a newcomer chats with it in a browser a minute after cloning (issue #5).
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import TYPE_CHECKING

from pydantic import SecretStr

if TYPE_CHECKING:
    from statbot.config import Settings

log = logging.getLogger(__name__)


def sandboxed_settings(settings: Settings, api_url: str) -> Settings:
    """The bot's settings when it talks to the sandbox at ``api_url`` instead of Telegram."""
    from statbot.channels.sandbox.state import DEFAULT_TOKEN

    return settings.model_copy(
        update={
            "telegram_token": SecretStr(DEFAULT_TOKEN),
            "telegram_api_url": api_url,
            "webhook_url": None,  # the sandbox is polled; a webhook would point nowhere
        }
    )


async def run_with_sandbox(settings: Settings) -> int:
    """Serve the sandbox on ``settings.sandbox_port`` and run the bot against it until stopped."""
    from statbot.app import run_app
    from statbot.channels.sandbox.server import run_sandbox

    port = settings.sandbox_port
    if port and not _port_free(port):
        log.warning("port %d is taken; the sandbox uses a free port instead", port)
        port = 0
    async with run_sandbox(host="127.0.0.1", port=port) as sandbox:
        # The one line a newcomer needs; printed (not logged) so it stands out.
        print(f"statbot sandbox: open {sandbox.page_url} to chat with the bot", flush=True)
        sys.stdout.flush()
        return await run_app(sandboxed_settings(settings, sandbox.api_url), mode_label="sandbox")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
