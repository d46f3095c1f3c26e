"""``statbot run`` without a token: the sandbox emulator and the unchanged bot, in one process.

It lives beside the app, not in the sandbox: the sandbox is a server that bots talk to over HTTP
and never imports the app (shared/DESIGN.md).

The bot is the real one — polling, the Telegram channel, PTB's client — pointed at the emulator
on 127.0.0.1, so a newcomer chats with it in a browser a minute after cloning (issue #5).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pydantic import SecretStr

if TYPE_CHECKING:
    from statbot.config import Settings

log = logging.getLogger(__name__)


def sandboxed_settings(settings: Settings, api_url: str) -> Settings:
    """The bot's settings when it talks to the sandbox at ``api_url`` instead of Telegram."""
    from statbot.sandbox.state import DEFAULT_TOKEN

    return settings.model_copy(
        update={
            "telegram_token": SecretStr(DEFAULT_TOKEN),
            "telegram_api_url": api_url,
            "webhook_url": None,  # the sandbox is polled; a webhook would point nowhere
        }
    )


async def run_with_sandbox(settings: Settings) -> int:
    """Serve the sandbox on ``settings.sandbox_port`` and run the bot against it until stopped.

    The sandbox keeps its chats in ``<data_dir>/sandbox`` across restarts, and its page address
    too when it can (issue 9, 2a): a bookmarked or still open page keeps working.
    """
    from statbot.app import run_app
    from statbot.sandbox.persist import choose_port, remembered_port
    from statbot.sandbox.server import run_sandbox

    state_dir = settings.data_dir / "sandbox"
    last_port = remembered_port(state_dir)
    port = choose_port(settings.sandbox_port, last_port)
    async with run_sandbox(host="127.0.0.1", port=port, state_dir=state_dir) as sandbox:
        if last_port is not None and sandbox.port != last_port:
            log.warning(
                "the sandbox page moved: it was http://127.0.0.1:%d/ last time, now %s",
                last_port,
                sandbox.page_url,
            )

        def show_page() -> None:
            # The one line a newcomer needs: printed (not logged) so it stands out, once, and
            # last — after the bot has started, so start-up logs do not bury it (issue 9).
            print(f"statbot sandbox: open {sandbox.page_url} to chat with the bot", flush=True)

        return await run_app(
            sandboxed_settings(settings, sandbox.api_url), mode_label="sandbox", on_ready=show_page
        )
