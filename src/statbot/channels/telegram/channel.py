"""The Telegram channel's lifecycle: initialize → start → stop → shutdown (idempotent each).

python-telegram-bot's ``Bot`` is the API client, pointed at ``STATBOT_TELEGRAM_API_URL`` so the
official API, a local Bot API server or the sandbox emulator are interchangeable. Ingress and
delivery are ours (see ingress.py, sender.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from telegram import Bot, BotCommand
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from statbot.channels.telegram.files import TelegramFiles
from statbot.channels.telegram.ingress import Ingress, Journal, Poller, WebhookServer
from statbot.channels.telegram.parse import ALLOWED_UPDATES
from statbot.channels.telegram.ratelimit import RateLimiter
from statbot.channels.telegram.request import BoundedRequest
from statbot.channels.telegram.sender import TelegramSender
from statbot.channels.telegram.sent import SentMessages
from statbot.config import Settings
from statbot.engine.replies import OutboxItem
from statbot.errors import ChannelError
from statbot.ops.metrics import Metrics

log = logging.getLogger(__name__)

Deliverer = Callable[[str, list[OutboxItem]], Awaitable[Sequence[int]]]
START_RETRIES = 5


def build_bot(settings: Settings) -> Bot:
    if not settings.token:
        raise ChannelError("STATBOT_TELEGRAM_TOKEN is not set")
    api = settings.telegram_api_url
    return Bot(
        settings.token,
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        # At most SEND_CONCURRENCY calls in flight (request.py: httpcore's pool is costly
        # with many queued); the pool's other connections serve file uploads.
        request=BoundedRequest(connection_pool_size=32, read_timeout=30, write_timeout=60),
        get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=40),
    )


class TelegramChannel:
    def __init__(
        self,
        settings: Settings,
        journal: Journal,
        metrics: Metrics,
        *,
        commands: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.bot = build_bot(settings)
        self.sent_messages = SentMessages(Path(settings.data_dir) / "telegram.sqlite3")
        self.sender = TelegramSender(
            self.bot, self.sent_messages, limiter=RateLimiter(), metrics=metrics, journal=journal
        )
        self.files = TelegramFiles(self.bot, max_download_mb=settings.max_download_mb)
        self.ingress = Ingress(
            self.bot, journal, self.sent_messages, metrics, allowed_users=settings.allowed_users
        )
        self.commands = tuple(commands)
        self.poller: Poller | None = None
        self.webhook: WebhookServer | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._initialized = False
        self.fatal: asyncio.Future[BaseException] | None = None

    @property
    def deliver(self) -> Deliverer:
        return self.sender.deliver

    async def initialize(self) -> None:
        if self._initialized:
            return
        delay = 1.0
        for attempt in range(1, START_RETRIES + 1):
            try:
                await self.bot.initialize()
                break
            except InvalidToken as exc:
                raise ChannelError("Telegram rejected the bot token (check the token)") from exc
            except TelegramError as exc:
                if attempt == START_RETRIES:
                    raise ChannelError(f"Bot API unreachable: {exc}") from exc
                log.warning("Bot API not reachable yet (%s); retrying in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay *= 2
        self.ingress.bot_username = self.bot.username
        if self.commands:
            try:
                await self.bot.set_my_commands([BotCommand(c, d) for c, d in self.commands])
            except TelegramError as exc:
                log.warning("setMyCommands failed: %s", exc)
        self._initialized = True
        log.info("connected to the Bot API as @%s", self.bot.username)
        if not self.settings.allowed_users:
            log.warning(
                "STATBOT_ALLOWED_USERS is empty: @%s answers every Telegram user",
                self.bot.username,
            )

    async def set_commands(
        self, commands: Sequence[tuple[str, str]], chat_id: int | None = None
    ) -> None:
        """setMyCommands for the default scope, or one private chat's (issue 12's role menus)."""
        from telegram import BotCommandScopeChat

        scope = BotCommandScopeChat(chat_id) if chat_id is not None else None
        await self.bot.set_my_commands([BotCommand(c, d) for c, d in commands], scope=scope)

    async def delete_commands(self, chat_id: int) -> None:
        """deleteMyCommands for one chat: it shows the default scope's menu again."""
        from telegram import BotCommandScopeChat

        await self.bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))

    async def start(self) -> None:
        """Start taking updates (webhook if STATBOT_WEBHOOK_URL is set, else polling)."""
        loop = asyncio.get_running_loop()
        self.fatal = loop.create_future()
        url = self.settings.webhook_url
        if url:
            secret = (
                self.settings.webhook_secret.get_secret_value()
                if self.settings.webhook_secret
                else None
            )
            if not secret:
                # Without a secret the endpoint would journal whatever anyone posts to it as a
                # user's message (any user id, any chat): refuse to start instead.
                raise ChannelError(
                    "webhook mode needs STATBOT_WEBHOOK_SECRET (Telegram sends it in "
                    "X-Telegram-Bot-Api-Secret-Token; requests without it are refused)"
                )
            self.webhook = WebhookServer(
                self.ingress,
                secret=secret,
                path=urlsplit(url).path or "/",
                host=self.settings.webhook_listen,
                port=self.settings.webhook_port,
            )
            await self.webhook.start()
            await self.bot.set_webhook(
                url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
            )
            log.info(
                "webhook mode: listening on %s:%d",
                self.settings.webhook_listen,
                self.webhook.bound_port,
            )
            return
        with contextlib.suppress(TelegramError):
            await self.bot.delete_webhook()
        self.poller = Poller(self.bot, self.ingress)
        self._poll_task = asyncio.create_task(self._poll(), name="telegram-poller")

    async def _poll(self) -> None:
        assert self.poller is not None
        try:
            await self.poller.run()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the app decides; a conflict is fatal
            if self.fatal is not None and not self.fatal.done():
                self.fatal.set_result(exc)

    async def stop(self) -> None:
        """Stop taking updates. In-flight journaling completes or is not acknowledged."""
        if self.poller is not None:
            self.poller.stop()
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
            self._poll_task = None
        if self.webhook is not None:
            await self.webhook.stop()
            self.webhook = None

    async def shutdown(self) -> None:
        await self.stop()
        if self._initialized:
            with contextlib.suppress(TelegramError, RuntimeError):
                await self.bot.shutdown()
            self._initialized = False
        self.sent_messages.close()

    async def forget_user(self, user_id: int) -> None:
        """/forget (an engine forget hook): the menus and progress messages this channel keeps
        of the user's private chat, whose id is the user's (DESIGN promise 4: they hold what the
        bot said, column names included). Called on the event loop, as the sender's writes."""
        self.sent_messages.forget_chat(user_id)

    async def check(self) -> tuple[bool, str]:
        """Readiness: the Bot API answers getMe."""
        try:
            me = await self.bot.get_me()
        except TelegramError as exc:
            return False, f"Bot API unreachable: {exc}"
        return True, f"@{me.username}"
