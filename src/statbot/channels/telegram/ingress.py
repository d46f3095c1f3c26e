"""Our own ingress, because no library acknowledges only after journaling (DESIGN.md promise 1).

- Polling: a ``getUpdates`` batch is appended to the engine's durable inbox before the next call
  moves the offset (the offset *is* Telegram's acknowledgement).
- Webhook: the update is journaled before the HTTP 200; a failure to journal answers 500 so that
  Telegram delivers it again.

Button presses are resolved against the menu table here (a menu still on its way is waited for,
sent.py): ``o:<i>`` becomes a CHOICE event with the option's id and the menu's token; ``p:<n>``
only re-renders the keyboard (view state). Every press is answered with ``answerCallbackQuery``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import StreamReader, web
from telegram import Bot
from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter, TelegramError

from statbot.channels.telegram.parse import ALLOWED_UPDATES, Callback, parse_update
from statbot.channels.telegram.render import keyboard
from statbot.channels.telegram.sender import markup, retry_after_seconds
from statbot.channels.telegram.sent import SentMessages
from statbot.engine.events import Event, EventKind
from statbot.engine.replies import DONE_OPTION
from statbot.errors import ChannelError
from statbot.ops.metrics import Metrics

log = logging.getLogger(__name__)

Journal = Callable[[Event], Awaitable[bool]]
STALE_TOKEN = "stale"
REFUSAL = "Sorry, this bot is private. Ask its operator to add your user id."
MAX_WEBHOOK_BODY = 1024 * 1024


class ConflictError(ChannelError):
    """Telegram answered 409 Conflict: another instance polls or a webhook is set."""


class Ingress:
    """Turns raw updates into journaled events. Shared by polling and webhook."""

    def __init__(
        self,
        bot: Bot,
        journal: Journal,
        sent_messages: SentMessages,
        metrics: Metrics,
        *,
        bot_username: str | None = None,
        allowed_users: tuple[int, ...] = (),
    ) -> None:
        self.bot = bot
        self.journal = journal
        self.sent_messages = sent_messages
        self.metrics = metrics
        self.bot_username = bot_username
        self.allowed = frozenset(allowed_users)

    async def ingest(self, raw: Any) -> None:
        """Journal one update. Raises only when journaling itself failed (do not ack then)."""
        parsed = parse_update(raw, self.bot_username)
        if parsed is None:
            return
        self.metrics.updates_received.inc()
        if self.allowed and parsed.key.user_id not in self.allowed:
            await self._refuse(parsed)
            return
        if isinstance(parsed, Callback):
            event = await self._resolve_press(parsed)
            if event is not None and not await self.journal(event):
                self.metrics.updates_duplicate.inc()
            await self._answer(parsed.query_id)
            return
        if not await self.journal(parsed):
            self.metrics.updates_duplicate.inc()

    async def _resolve_press(self, press: Callback) -> Event | None:
        kind, _, arg = press.data.partition(":")
        menu = await self.sent_messages.wait_menu(press.chat_id, press.message_id)
        if kind in ("n", "p"):
            if kind == "p" and menu is not None and arg.isdigit():
                await self._turn_page(press, menu.reply, int(arg))
            return None
        choice, token = "", STALE_TOKEN
        if menu is not None:
            token = menu.reply.token
            if kind == "d":
                choice = DONE_OPTION
            elif kind == "o" and arg.isdigit() and int(arg) < len(menu.reply.options):
                choice = menu.reply.options[int(arg)].id
        return Event.from_update(
            press.key, press.update_id, EventKind.CHOICE, choice=choice, token=token, **press.sender
        )

    async def _turn_page(self, press: Callback, reply: Any, page: int) -> None:
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=press.chat_id,
                message_id=press.message_id,
                reply_markup=markup(keyboard(reply, page)),
            )
            self.sent_messages.set_page(press.chat_id, press.message_id, page)
        except BadRequest as exc:
            log.debug("page turn not applied: %s", exc)

    async def _answer(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:  # an unanswered spinner is cosmetic; never lose the press
            log.debug("answerCallbackQuery failed: %s", exc)

    async def _refuse(self, parsed: Event | Callback) -> None:
        try:
            if isinstance(parsed, Event) and parsed.payment and parsed.payment.query_id:
                await self.bot.answer_pre_checkout_query(parsed.payment.query_id, False, REFUSAL)
            elif isinstance(parsed, Callback):
                await self.bot.answer_callback_query(parsed.query_id, text=REFUSAL)
            else:
                await self.bot.send_message(parsed.key.chat_id, REFUSAL)
        except TelegramError as exc:
            log.debug("refusal not delivered: %s", exc)


class Poller:
    """Long-polls getUpdates; journals each batch before the offset moves."""

    def __init__(self, bot: Bot, ingress: Ingress, *, timeout: int = 25) -> None:
        self.bot = bot
        self.ingress = ingress
        self.timeout = timeout
        self.offset: int | None = None
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Poll until stopped. Raises ConflictError on 409 (fatal by design)."""
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                updates = await self._get_updates()
            except Conflict as exc:
                self.ingress.metrics.conflicts.inc()
                raise ConflictError(
                    f"Telegram says another bot instance is polling: {exc}"
                ) from exc
            except RetryAfter as exc:
                await self._sleep(retry_after_seconds(exc))
                continue
            except (NetworkError, TelegramError) as exc:
                log.warning("getUpdates failed (%s); retrying in %.1f s", exc, backoff)
                await self._sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 0.5
            # Journal first; only then may the next getUpdates confirm it via the offset.
            await self._journal_batch(updates)

    async def _get_updates(self) -> list[Any]:
        """One ``getUpdates`` call; the updates as the Bot API's JSON (dicts).

        Not ``Bot.get_updates``: it builds PTB objects of every update, which the ingress only
        turned back into dicts (``to_dict``) for ``parse_update`` — 7% of the bot's busy time
        under a burst (docs/PERFORMANCE.md "Burst"). The ingress works on the raw JSON anyway
        (the webhook hands it over as received), and ``parse_update`` is total on it: an update
        PTB could not parse no longer fails the whole batch. ``Bot._post`` is the call
        ``get_updates`` makes (same errors: Conflict, RetryAfter, NetworkError, …), with the
        same read timeout it computes (ours plus the long-poll's).
        """
        result = await self.bot._post(
            "getUpdates",
            {
                "timeout": self.timeout,
                "offset": self.offset,
                "allowed_updates": list(ALLOWED_UPDATES),
            },
            read_timeout=self.timeout + 10 + self.timeout,  # as get_updates(read_timeout=t + 10)
        )
        return list(result) if isinstance(result, list) else []

    async def _journal_batch(self, updates: Sequence[Any]) -> None:
        """Journal one getUpdates batch (raw JSON updates) and move the offset past what landed.

        Chats are journaled concurrently, so their appends share the store's group commits:
        one by one, a burst of 100 updates waited for 100 commits (each behind a loop turn
        full of sends) before the offset could move, 0.5-1 s per batch under load
        (docs/PERFORMANCE.md "Burst"). Within a chat the updates still go one after another
        in ``update_id`` order, so the inbox keeps each conversation's order. If one fails,
        the offset stops before the first update that did not land (the rest is fetched
        again; appends that did land are deduplicated) and the error is raised.
        """
        lanes: dict[int | None, list[int]] = {}  # chat id -> positions in the batch
        for index, update in enumerate(updates):
            lanes.setdefault(chat_of(update), []).append(index)
        failed: dict[int, Exception] = {}  # position -> why it (or one before it) failed

        async def lane(positions: list[int]) -> None:
            for n, index in enumerate(positions):
                try:
                    await self.ingress.ingest(updates[index])
                except Exception as exc:
                    failed.update((later, exc) for later in positions[n:])
                    return

        await asyncio.gather(*(lane(positions) for positions in lanes.values()))
        for index, update in enumerate(updates):
            if index in failed:
                raise failed[index]
            update_id = update_id_of(update)
            if update_id is not None:  # without one (never from Telegram) the next moves past
                self.offset = update_id + 1

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def update_id_of(raw: Any) -> int | None:
    value = raw.get("update_id") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def chat_of(raw: Any) -> int | None:
    """The chat a raw update belongs to (a message's, or a pressed button's message's); None
    when it has none (those share one lane)."""
    if not isinstance(raw, dict):
        return None
    message = raw.get("message")
    if message is None and isinstance(raw.get("callback_query"), dict):
        message = raw["callback_query"].get("message")
    if message is None and isinstance(raw.get("pre_checkout_query"), dict):
        message = {"chat": raw["pre_checkout_query"].get("from")}  # the payer's private chat
    chat = message.get("chat") if isinstance(message, dict) else None
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    return chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else None


class WebhookServer:
    """aiohttp endpoint: secret checked in constant time, body capped, JSON only, journal → 200."""

    def __init__(
        self, ingress: Ingress, *, secret: str | None, path: str, host: str, port: int
    ) -> None:
        self.ingress = ingress
        self.secret = secret or ""
        self.path = path or "/"
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_WEBHOOK_BODY)
        app.router.add_post(self.path, self._handle)
        return app

    @property
    def bound_port(self) -> int:
        if self._runner is not None:
            for site in self._runner.sites:
                server = getattr(site, "_server", None)
                if server is not None and server.sockets:
                    return int(server.sockets[0].getsockname()[1])
        return self.port

    async def start(self) -> None:
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _reject(self, reason: str, status: int) -> web.Response:
        self.ingress.metrics.webhook_rejections.labels(reason=reason).inc()
        return web.Response(status=status, text=reason)

    async def _handle(self, request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if self.secret and not hmac.compare_digest(given.encode(), self.secret.encode()):
            return self._reject("secret", 403)
        if request.content_length is not None and request.content_length > MAX_WEBHOOK_BODY:
            return self._reject("size", 413)
        try:
            body = await _read_capped(request.content, MAX_WEBHOOK_BODY + 1)
        except ConnectionError:
            return web.Response(status=400)
        if len(body) > MAX_WEBHOOK_BODY:
            return self._reject("size", 413)
        try:
            raw = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return self._reject("json", 400)
        if not isinstance(raw, dict):
            return self._reject("json", 400)
        try:
            await self.ingress.ingest(raw)
        except Exception:
            log.exception("could not journal a webhook update; Telegram will retry it")
            return web.Response(status=500)
        return web.Response(status=200)


async def _read_capped(stream: StreamReader, limit: int) -> bytes:
    """Read to the end of the body or ``limit`` bytes, whichever comes first.

    ``StreamReader.read(n)`` returns what is buffered (one socket read), not ``n`` bytes: a body
    that arrives in several pieces would otherwise be parsed from its first piece only.
    """
    parts: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await stream.read(limit - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)
