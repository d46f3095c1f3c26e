"""Getting updates to the bot: long polling (``getUpdates``) or delivery to a webhook.

Semantics follow https://core.telegram.org/bots/api#getting-updates: an update stays queued until
a ``getUpdates`` call with a higher ``offset`` confirms it (or the webhook answered 2xx); a second
concurrent ``getUpdates`` terminates the first with 409; ``getUpdates`` is refused with 409 while a
webhook is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from statbot.sandbox.messages import Call
from statbot.sandbox.params import ApiError, bad_request
from statbot.sandbox.state import Bot, SandboxState, Webhook, update_kind

log = logging.getLogger(__name__)

CONFLICT_POLLER = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
MAX_POLL_SECONDS = 60.0
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

Execute = Callable[[Bot, str, dict[str, Any]], Awaitable[Any]]


def chat_of(update: dict[str, Any]) -> object:
    """The conversation an update belongs to (its chat, else its sender); else the update itself.

    Webhook delivery keeps one update in flight per conversation, so that key decides the order.
    """
    for key, value in update.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        for holder in (value, value.get("message")):
            if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                return ("chat", holder["chat"].get("id"))
        sender = value.get("from") or value.get("user")
        if isinstance(sender, dict):
            return ("user", sender.get("id"))
    return ("update", update.get("update_id"))


def _confirm(bot: Bot, offset: int | None) -> None:
    if offset is None:
        return
    if offset < 0:
        while len(bot.updates) > -offset:
            bot.updates.popleft()
        return
    while bot.updates and bot.updates[0]["update_id"] < offset:
        bot.updates.popleft()


def deliverable(bot: Bot, limit: int) -> list[dict[str, Any]]:
    """The next ``limit`` updates the bot asked for; updates of unwanted types are dropped."""
    allowed = set(bot.allowed_updates or ())
    if allowed:
        kept = [u for u in bot.updates if update_kind(u) in allowed]
        bot.updates.clear()
        bot.updates.extend(kept)
    return list(bot.updates)[:limit]


async def get_updates(call: Call) -> list[dict[str, Any]]:
    bot, params = call.bot, call.params
    if bot.webhook is not None:
        raise ApiError(409, CONFLICT_WEBHOOK)
    offset = params.int_("offset")
    limit = min(max(params.int_("limit", 100) or 100, 1), 100)
    timeout = min(max(params.float_("timeout", 0.0) or 0.0, 0.0), MAX_POLL_SECONDS)
    allowed = params.json_("allowed_updates")
    if isinstance(allowed, list):
        bot.allowed_updates = [str(a) for a in allowed] or None
    _confirm(bot, offset)
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.new_updates.fire()  # wakes an earlier poller so that it sees it was superseded
    deadline = time.monotonic() + timeout
    while True:
        if bot.poll_generation != generation:
            raise ApiError(409, CONFLICT_POLLER)
        if bot.webhook is not None:
            raise ApiError(409, CONFLICT_WEBHOOK)
        batch = deliverable(bot, limit)
        remaining = deadline - time.monotonic()
        if batch or remaining <= 0:
            return batch
        await bot.new_updates.wait(remaining)


class Webhooks:
    """One delivery loop per bot with a webhook: parallel POSTs, per-chat order, retries."""

    def __init__(self, state: SandboxState, execute: Execute) -> None:
        self._state = state
        self._execute = execute
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    async def set_webhook(self, call: Call) -> bool:
        bot, params = call.bot, call.params
        url = params.str_("url") or ""
        if params.bool_("drop_pending_updates"):
            bot.updates.clear()
        if not url:
            await self._stop(bot)
            return True
        if not re.match(r"^https?://[^/\s]+", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.str_("secret_token")
        if secret is not None and not _SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.json_("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed_updates = [str(a) for a in allowed] or None
        await self._stop(bot)
        bot.webhook = Webhook(
            url=url, secret_token=secret, max_connections=params.int_("max_connections", 40) or 40
        )
        bot.new_updates.fire()  # a waiting getUpdates now fails with 409, like Telegram
        self._tasks[bot.token] = asyncio.create_task(self._deliver(bot, bot.webhook))
        return True

    async def delete_webhook(self, call: Call) -> bool:
        if call.params.bool_("drop_pending_updates"):
            call.bot.updates.clear()
        await self._stop(call.bot)
        return True

    async def get_webhook_info(self, call: Call) -> dict[str, Any]:
        bot = call.bot
        info: dict[str, Any] = {
            "url": bot.webhook.url if bot.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(bot.updates),
        }
        if bot.webhook is not None:
            info["max_connections"] = bot.webhook.max_connections
            info["ip_address"] = "127.0.0.1"
            if bot.webhook.last_error_date is not None:
                info["last_error_date"] = bot.webhook.last_error_date
                info["last_error_message"] = bot.webhook.last_error_message
        if bot.allowed_updates:
            info["allowed_updates"] = bot.allowed_updates
        return info

    async def _stop(self, bot: Bot) -> None:
        bot.webhook = None
        task = self._tasks.pop(bot.token, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        for bot in list(self._state.bots.values()):
            await self._stop(bot)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver(self, bot: Bot, hook: Webhook) -> None:
        """POST queued updates over up to ``max_connections`` parallel requests, one per chat.

        Telegram opens up to ``max_connections`` connections to a webhook but keeps one
        conversation's updates in ``update_id`` order (issue 14): a chat's next update is sent only
        after its previous one was answered 2xx; other chats overtake a slow or failing one.
        """
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        headers = (
            {"X-Telegram-Bot-Api-Secret-Token": hook.secret_token} if hook.secret_token else {}
        )
        in_flight: dict[object, asyncio.Task[None]] = {}
        try:
            while bot.webhook is hook:
                for chat, task in list(in_flight.items()):
                    if task.done():
                        del in_flight[chat]
                seen: set[object] = set()
                for update in deliverable(bot, len(bot.updates)):
                    if len(in_flight) >= max(hook.max_connections, 1):
                        break
                    chat = chat_of(update)
                    if chat in seen:
                        continue  # an earlier update of this chat is still queued
                    seen.add(chat)
                    if chat not in in_flight:
                        in_flight[chat] = asyncio.create_task(
                            self._deliver_one(bot, hook, update, headers)
                        )
                woken = asyncio.ensure_future(bot.new_updates.wait(30.0))
                await asyncio.wait({woken, *in_flight.values()}, return_when="FIRST_COMPLETED")
                woken.cancel()
        finally:
            for task in in_flight.values():
                task.cancel()
            if in_flight:
                await asyncio.wait(in_flight.values())

    async def _deliver_one(
        self, bot: Bot, hook: Webhook, update: dict[str, Any], headers: dict[str, str]
    ) -> None:
        error = await self._post(bot, hook, update, headers)
        if error is None:
            # Confirmed: off the queue (unless the queue was dropped meanwhile).
            for index, queued in enumerate(bot.updates):
                if queued is update:
                    del bot.updates[index]
                    break
            return
        hook.last_error_date = int(time.time())
        hook.last_error_message = error
        log.info("webhook delivery failed (%s); retrying", error)
        # The chat's slot stays taken through the delay, so its later updates wait behind it.
        await asyncio.sleep(self._state.config.webhook_retry_seconds)

    async def _post(
        self, bot: Bot, hook: Webhook, update: dict[str, Any], headers: dict[str, str]
    ) -> str | None:
        assert self._session is not None
        try:
            async with self._session.post(hook.url, json=update, headers=headers) as response:
                if not 200 <= response.status < 300:
                    return f"Wrong response from the webhook: {response.status} {response.reason}"
                reply = await self._reply_method(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"Connection failed: {type(exc).__name__}"
        if reply is not None:
            # Telegram lets a webhook answer with one method call in its response body.
            method, values = reply
            with contextlib.suppress(ApiError):
                await self._execute(bot, method, values)
        return None

    @staticmethod
    async def _reply_method(
        response: aiohttp.ClientResponse,
    ) -> tuple[str, dict[str, Any]] | None:
        if response.content_type != "application/json":
            return None
        try:
            body = await response.json()
        except ValueError:
            return None
        if isinstance(body, dict) and isinstance(body.get("method"), str):
            values = {k: v for k, v in body.items() if k != "method"}
            return str(body["method"]), values
        return None
