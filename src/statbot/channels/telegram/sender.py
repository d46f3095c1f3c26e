"""Delivers outbox items to Telegram through PTB's Bot.

The engine hands over a conversation's undelivered replies in order; we send them one at a time
and report which were delivered, so the outbox marks exactly those. Guarantees:
- a 429 pauses only that chat (``retry_after`` honoured) and the item is retried, not dropped;
- network errors are retried with backoff; after that the batch stops and the outbox keeps the
  rest for the next attempt (nothing dropped);
- a permanent refusal (user blocked the bot, chat gone) is logged and the item marked delivered,
  so one dead chat cannot wedge its outbox forever;
- progress bars edit one message in place, at most once per second (the final 100% always shows);
- a bulk message (a broadcast's notice: ``meta["broadcast"]``, issue 12) goes out one at a time at
  the overall bulk rate, between the ``bulk`` hook's ``claim`` (may it still go?) and ``result``
  (sent, blocked: 403, or failed), so the catalog records each recipient's outcome; the hook is
  passed in by the app (channels never import the access room).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from statbot.channels.telegram import payments
from statbot.channels.telegram.payments import Journal
from statbot.channels.telegram.ratelimit import RateLimiter
from statbot.channels.telegram.render import (
    MAX_CAPTION,
    fit_utf16,
    keyboard,
    progress_text,
    split_text,
    to_html,
    to_plain,
)
from statbot.channels.telegram.sent import SentMessages
from statbot.engine.events import ConversationKey
from statbot.engine.replies import OutboxItem, Reply, ReplyKind
from statbot.ops.metrics import Metrics

log = logging.getLogger(__name__)

PROGRESS_MIN_INTERVAL_S = 1.0
_NOT_MESSAGES = frozenset({ReplyKind.CHECKOUT, ReplyKind.REFUND})  # calls, not chat messages
NETWORK_RETRIES = 4


SENT, BLOCKED, FAILED = "sent", "blocked", "failed"
BULK_META = "broadcast"


class BulkHook(Protocol):
    """Told about each bulk message (see the module docstring)."""

    async def claim(self, chat_id: int, meta: dict[str, Any]) -> bool: ...

    async def result(
        self, chat_id: int, meta: dict[str, Any], outcome: str, message_id: int | None
    ) -> None: ...


class DeliveryStopped(Exception):
    """The batch cannot continue now (network down); the rest stays in the outbox."""


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)


def markup(rows: list[list[dict[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
            for row in rows
        ]
    )


class TelegramSender:
    def __init__(
        self,
        bot: Bot,
        sent_messages: SentMessages,
        *,
        limiter: RateLimiter | None = None,
        metrics: Metrics | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.bot = bot
        self.journal = journal  # where a refund's result goes (payments.refund)
        self.sent_messages = sent_messages
        self.limiter = limiter or RateLimiter()
        self.metrics = metrics or Metrics()
        self.bulk: BulkHook | None = None
        # One bulk message in flight at a time: at most one recipient's outcome is unknown
        # should the process die (its claim finds it "sending" and sends again).
        self._bulk_turn = asyncio.Lock()

    async def deliver(self, key: str, items: list[OutboxItem]) -> Sequence[int]:
        """The engine's deliverer: send in order, return the seqs that are done."""
        chat_id = ConversationKey.parse(key).chat_id
        done: list[int] = []
        for item in items:
            try:
                if BULK_META in item.reply.meta:
                    await self._send_bulk(chat_id, item.reply)
                else:
                    await self._send_with_retries(chat_id, item.reply, item=item)
            except DeliveryStopped:
                break
            done.append(item.seq)
        return done

    async def _send_bulk(self, chat_id: int, reply: Reply) -> None:
        async with self._bulk_turn:
            if self.bulk is not None and not await self.bulk.claim(chat_id, reply.meta):
                return  # it has an outcome already (re-delivered after a crash)
            sent = _PartsSent()
            outcome = await self._send_with_retries(chat_id, reply, bulk=True, sent=sent)
            if self.bulk is not None:
                await self.bulk.result(chat_id, reply.meta, outcome, sent.message_id)

    async def _send_with_retries(
        self,
        chat_id: int,
        reply: Reply,
        *,
        bulk: bool = False,
        sent: _PartsSent | None = None,
        item: OutboxItem | None = None,
    ) -> str:
        """Send one reply; its outcome: SENT, BLOCKED (403) or FAILED (refused, dropped).
        Raises DeliveryStopped when it must wait for a later attempt."""
        backoff = 0.5
        network_failures = 0
        # A long text goes out as several messages; a retry (429, network) resumes after the
        # parts already delivered instead of sending them again — from the first part, a 429
        # in the middle would repeat forever.
        sent = sent if sent is not None else _PartsSent()
        while True:
            if reply.kind not in _NOT_MESSAGES:  # a checkout answer must not queue behind text
                await self.limiter.acquire(chat_id, bulk=bulk)
            try:
                if reply.kind is ReplyKind.REFUND and item is not None:
                    await payments.refund(self.bot, item, self.journal)
                else:
                    await self._send(chat_id, reply, sent)
                return SENT
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                self.metrics.api_errors.labels(code="429").inc()
                log.warning("flood control for chat %s: retrying in %.1f s", chat_id, wait)
                self.limiter.pause(chat_id, wait)
            except Forbidden as exc:
                self.metrics.api_errors.labels(code="403").inc()
                log.warning("chat %s refuses messages (%s); reply dropped", chat_id, exc)
                return BLOCKED
            except BadRequest as exc:
                self.metrics.api_errors.labels(code="400").inc()
                if "not modified" in str(exc).lower():
                    return SENT
                if await self._fallback(chat_id, reply, exc, sent):
                    return SENT
                log.error("Telegram refused a reply to chat %s: %s; dropped", chat_id, exc)
                return FAILED
            except NetworkError as exc:
                network_failures += 1
                if network_failures > NETWORK_RETRIES:
                    log.warning("network errors to chat %s: %s; will retry later", chat_id, exc)
                    raise DeliveryStopped from exc
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 8.0)
            except TelegramError as exc:
                self.metrics.api_errors.labels(code="other").inc()
                log.error("Telegram error for chat %s: %s; will retry later", chat_id, exc)
                raise DeliveryStopped from exc

    async def _fallback(
        self, chat_id: int, reply: Reply, exc: BadRequest, sent: _PartsSent
    ) -> bool:
        """Salvage what Telegram refused: unparsable HTML is resent as plain text (the parts
        not delivered yet)."""
        if "parse" in str(exc).lower() and reply.kind is ReplyKind.TEXT:
            for part in split_text(reply.text)[sent.count :]:
                await self.bot.send_message(chat_id, to_plain(part))
                sent.count += 1
            return True
        return False

    async def _send(self, chat_id: int, reply: Reply, sent: _PartsSent | None = None) -> None:
        if reply.kind is ReplyKind.TEXT:
            sent = sent if sent is not None else _PartsSent()
            for part in split_text(reply.text)[sent.count :]:
                sent.message_id = await self._send_html(chat_id, to_html(part))
                sent.count += 1
        elif reply.kind is ReplyKind.CHOICES:
            await self._send_choices(chat_id, reply, sent if sent is not None else _PartsSent())
        elif reply.kind is ReplyKind.PROGRESS:
            await self._send_progress(chat_id, reply)
        elif reply.kind in (ReplyKind.IMAGE, ReplyKind.DOCUMENT):
            await self._send_file(chat_id, reply)
        elif reply.kind is ReplyKind.INVOICE:
            await payments.send_invoice(self.bot, chat_id, reply)
        elif reply.kind is ReplyKind.CHECKOUT:
            await payments.answer_checkout(self.bot, reply)

    async def _send_html(self, chat_id: int, html: str) -> int | None:
        """``sendMessage`` of one HTML text whose answer nothing reads (not a menu, not a
        progress bar). ``Bot.send_message`` would build a PTB ``Message`` of the answer, ~90 µs
        a message — 5% of the bot's CPU under a burst (docs/PERFORMANCE.md "Burst").
        ``Bot._post`` is the call it makes: the same request, the same errors raised."""
        result = await self.bot._post(
            "sendMessage", {"chat_id": chat_id, "text": html, "parse_mode": ParseMode.HTML}
        )
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return int(message_id) if message_id is not None else None

    async def _send_choices(self, chat_id: int, reply: Reply, sent: _PartsSent) -> None:
        *before, last = split_text(reply.text) or [""]
        text = to_html(last or "Choose:")
        existing = self.sent_messages.menu_with_token(chat_id, reply.token) if reply.multi else None
        if existing is not None:
            # A multi-select toggle: same menu, new ticks → edit the message in place.
            page = existing.page
            await self.bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=existing.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(keyboard(reply, page)),
            )
            self.sent_messages.put_menu(chat_id, existing.message_id, reply, page)
            return
        for part in before[sent.count :]:  # a long question: all of it, buttons under the last
            await self._send_html(chat_id, to_html(part))
            sent.count += 1  # a retry after a 429 resumes here, sending no part twice
        with self.sent_messages.sending(chat_id):  # a press may come before its row
            message = await self.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard(reply))
            )
            self.sent_messages.put_menu(chat_id, message.message_id, reply)

    async def _send_progress(self, chat_id: int, reply: Reply) -> None:
        progress_id = reply.progress_id or "progress"
        text = progress_text(reply.fraction or 0.0, reply.text)
        shown = self.sent_messages.get_progress(chat_id, progress_id)
        if shown is None:
            message = await self.bot.send_message(chat_id, text)
            self.sent_messages.put_progress(chat_id, progress_id, message.message_id, text)
            await self.bot.send_chat_action(chat_id, ChatAction.TYPING)
            return
        final = reply.final
        if shown.text == text or (
            not final and time.time() - shown.edited_at < PROGRESS_MIN_INTERVAL_S
        ):
            return  # superseded by a later update; the bar only shows the latest state
        await self.bot.edit_message_text(text, chat_id=chat_id, message_id=shown.message_id)
        self.sent_messages.put_progress(chat_id, progress_id, shown.message_id, text)
        if not final:
            await self.bot.send_chat_action(chat_id, ChatAction.TYPING)

    async def _send_file(self, chat_id: int, reply: Reply) -> None:
        path = Path(reply.path or "")
        caption = to_html(fit_utf16(reply.text, MAX_CAPTION)[0]) if reply.text else None
        data = await asyncio.to_thread(_read_or_none, path)
        if data is None:
            await self.bot.send_message(
                chat_id, f"(The file {reply.file_name or path.name} is no longer available.)"
            )
            return
        name = reply.file_name or path.name
        if reply.kind is ReplyKind.IMAGE and len(data) < 10 * 1024 * 1024:
            await self.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
            await self.bot.send_photo(
                chat_id, photo=data, caption=caption, parse_mode=ParseMode.HTML, filename=name
            )
        else:
            await self.bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
            await self.bot.send_document(
                chat_id, document=data, filename=name, caption=caption, parse_mode=ParseMode.HTML
            )


@dataclass(slots=True)
class _PartsSent:
    """How many parts of a long text reply were delivered (survives the retries of one item)."""

    count: int = 0
    message_id: int | None = None  # the last part's


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
