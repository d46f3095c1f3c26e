"""Telegram Stars on the wire (issue 12): invoices, pre-checkout answers and refunds.

https://core.telegram.org/bots/api#payments and the Stars notes: digital goods are sold in
Telegram Stars, currency ``XTR``, with an empty ``provider_token`` and exactly one price item;
a ``pre_checkout_query`` must be answered within 10 seconds or the payment fails;
``refundStarPayment(user_id, telegram_payment_charge_id)`` gives a payment back.

A refund is a call whose answer the conversation needs (did it happen?), so its result returns
to the conversation that asked as a ``REFUND_RESULT`` event through the same journal as an
update (``text`` is Telegram's refusal, empty when the refund was made). Its id is derived from
the charge, so a refund re-sent after a crash is one event, not two.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, LabeledPrice
from telegram.error import BadRequest, Forbidden

from statbot.engine.events import ConversationKey, Event, EventKind, Payment
from statbot.engine.replies import STARS, OutboxItem, Reply

log = logging.getLogger(__name__)

Journal = Callable[[Event], Awaitable[bool]]


async def send_invoice(bot: Bot, chat_id: int, reply: Reply) -> None:
    meta = reply.meta
    title = str(meta.get("title", ""))
    await bot.send_invoice(
        chat_id,
        title=title,
        description=reply.text or title,
        payload=str(meta["payload"]),
        currency=str(meta.get("currency", STARS)),
        prices=[LabeledPrice(title, int(meta["amount"]))],
        provider_token="",  # Stars: no payment provider
    )


async def answer_checkout(bot: Bot, reply: Reply) -> None:
    meta = reply.meta
    ok = bool(meta.get("ok"))
    try:
        await bot.answer_pre_checkout_query(
            str(meta["query_id"]), ok=ok, error_message=None if ok else str(meta.get("error"))
        )
    except BadRequest as exc:
        # Answered too late (over 10 s, e.g. across a restart) or twice: the user's payment
        # has already failed on Telegram's side, nothing was charged; resending cannot help.
        log.warning("pre-checkout answer refused by Telegram: %s", exc)


async def refund(bot: Bot, item: OutboxItem, journal: Journal | None) -> None:
    """Ask for the refund; journal its result to the conversation that asked."""
    reply = item.reply
    user_id, charge_id = int(reply.meta["user_id"]), str(reply.meta["charge_id"])
    error = ""
    try:
        await bot.refund_star_payment(user_id, charge_id)
    except (BadRequest, Forbidden) as exc:
        error = str(exc) or type(exc).__name__
        log.warning("refund of a payment of user %s refused: %s", user_id, error)
    if journal is None:
        return
    event = Event(
        key=ConversationKey.parse(item.key),
        kind=EventKind.REFUND_RESULT,
        event_id=f"r{item.seq}:{item.event_id}",
        text=error,
        payment=Payment(STARS, 0, "", charge_id=charge_id),
    )
    await journal(event)
