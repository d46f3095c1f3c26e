"""Telegram Stars in the sandbox (issue 12): invoices, the user's Pay, pre-checkout, refunds.

Follows https://core.telegram.org/bots/api#payments for digital goods: ``sendInvoice`` with
currency ``XTR``, an empty ``provider_token`` and exactly one price; the user's Pay becomes a
``pre_checkout_query`` update that the bot must answer with ``answerPreCheckoutQuery`` within
10 s (``SandboxConfig.pre_checkout_timeout``), else the payment fails as Telegram's does; ok=True
charges the user and sends the bot a message update with ``successful_payment`` (a fresh
``telegram_payment_charge_id``); ok=False shows the bot's ``error_message`` to the user.
``refundStarPayment`` gives a charge back once and sends a ``refunded_payment`` message update.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from statbot.sandbox.keyboards import check_rate, parse_reply_markup
from statbot.sandbox.messages import Call, _deliver, _reply_to
from statbot.sandbox.params import bad_request
from statbot.sandbox.state import Bot, Chat, Message, SandboxState, User
from statbot.sandbox.users import ControlError, user_message
from statbot.sandbox.views import message_to_api, message_view

STARS = "XTR"
MAX_STARS = 10000  # Telegram's upper bound for one Stars invoice
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
TOO_LATE = "The bot did not confirm the payment in time. Nothing was charged."


def _invoice_fields(call: Call) -> tuple[dict[str, Any], str]:
    params = call.params
    title = params.str_("title") or ""
    description = params.str_("description") or ""
    payload = params.str_("payload") or ""
    if not 1 <= len(title) <= 32:
        raise bad_request("INVOICE_TITLE_INVALID: the title must be 1-32 characters")
    if not 1 <= len(description) <= 255:
        raise bad_request("INVOICE_DESCRIPTION_INVALID: the description must be 1-255 characters")
    if not 1 <= len(payload.encode("utf-8")) <= 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID: the payload must be 1-128 bytes")
    currency = params.str_("currency") or ""
    if currency != STARS:
        raise bad_request(f"CURRENCY_INVALID: the sandbox sells in Telegram Stars ({STARS}) only")
    if params.str_("provider_token"):
        raise bad_request("PAYMENT_PROVIDER_INVALID: Stars invoices take an empty provider_token")
    prices = params.json_("prices", "can't parse prices JSON object")
    if not isinstance(prices, list) or len(prices) != 1 or not isinstance(prices[0], dict):
        raise bad_request("STARS_INVOICE_INVALID: a Stars invoice has exactly one price")
    amount = prices[0].get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_STARS:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    invoice = {
        "title": title,
        "description": description,
        "start_parameter": params.str_("start_parameter") or "",
        "currency": currency,
        "total_amount": amount,
    }
    return invoice, payload


async def send_invoice(call: Call) -> dict[str, Any]:
    chat = call.chat()
    invoice, payload = _invoice_fields(call)
    inline, _reply = parse_reply_markup(call.params)
    message = Message(
        message_id=chat.new_message_id(),
        chat_id=chat.id,
        from_bot=True,
        date=int(time.time()),
        reply_markup=inline,
        reply_to=_reply_to(call, chat),
        invoice=invoice,
        invoice_payload=payload,
    )
    check_rate(chat, call.state.config.rate_limit_per_chat)
    return _deliver(call, chat, message)


def _set_status(
    state: SandboxState, chat: Chat, message: Message | None, status: str, error: str | None = None
) -> None:
    if message is None:
        return  # the bot deleted its invoice meanwhile; the payment goes on without it
    message.payment_status, message.payment_error = status, error
    message.edits += 1  # a changed message: the snapshot encodes it again
    kind = "user_pay" if status == "pending" else "payment"
    state.publish(kind, chat, message=message_view(message), status=status, error=error)


def pay(state: SandboxState, bot: Bot, user: User, message_id: int) -> dict[str, Any]:
    """The user presses Pay under the invoice ``message_id``: a ``pre_checkout_query``."""
    chat = state.find_chat(bot, user.id)
    message = chat.messages.get(message_id) if chat else None
    if chat is None or message is None or not message.from_bot or message.invoice is None:
        raise ControlError(f"no invoice {message_id} in {user.first_name}'s chat", 404)
    if message.payment_status in ("pending", "paid"):
        raise ControlError(f"invoice {message_id} is {message.payment_status} already", 409)
    query_id = str(secrets.randbits(63))
    invoice = message.invoice
    query = {
        "id": query_id,
        "from": user.to_api(),
        "currency": invoice["currency"],
        "total_amount": invoice["total_amount"],
        "invoice_payload": message.invoice_payload or "",
    }
    bot.checkouts[query_id] = {**query, "chat_id": chat.id, "message_id": message_id}
    _set_status(state, chat, message, "pending")
    update_id = bot.push_update("pre_checkout_query", query)
    loop = asyncio.get_running_loop()
    loop.call_later(state.config.pre_checkout_timeout, _expire, state, bot, query_id)
    return {"update_id": update_id, "message_id": message_id, "pre_checkout_query_id": query_id}


def _expire(state: SandboxState, bot: Bot, query_id: str) -> None:
    checkout = bot.checkouts.pop(query_id, None)
    if checkout is None:
        return  # answered in time (or the sandbox was reset)
    chat = state.find_chat(bot, int(checkout["chat_id"]))
    if chat is not None:
        _set_status(
            state, chat, chat.messages.get(int(checkout["message_id"])), "expired", TOO_LATE
        )


def _service(state: SandboxState, bot: Bot, chat: Chat, **content: Any) -> int:
    """A payment's service message in the user's chat, delivered to the bot as an update."""
    _chat, message = user_message(state, bot, chat.user, **content)
    return bot.push_update("message", message_to_api(bot, chat, message))


async def answer_pre_checkout_query(call: Call) -> bool:
    query_id = call.params.str_("pre_checkout_query_id") or ""
    checkout = call.bot.checkouts.get(query_id)
    if checkout is None:
        raise bad_request(QUERY_INVALID)
    ok = call.params.bool_("ok")
    error = call.params.str_("error_message") or ""
    if not ok and not error:
        raise bad_request("ERROR_MESSAGE_EMPTY: error_message is required when ok is False")
    del call.bot.checkouts[query_id]
    state, bot = call.state, call.bot
    chat = state.chats[(bot.id, int(checkout["chat_id"]))]
    invoice_message = chat.messages.get(int(checkout["message_id"]))
    if not ok:
        _set_status(state, chat, invoice_message, "declined", error)
        return True
    charge_id = "stxsb" + secrets.token_hex(24)
    paid = {
        "currency": checkout["currency"],
        "total_amount": checkout["total_amount"],
        "invoice_payload": checkout["invoice_payload"],
        "telegram_payment_charge_id": charge_id,
        "provider_payment_charge_id": "",
    }
    bot.charges[charge_id] = {
        **paid,
        "user_id": chat.id,
        "message_id": int(checkout["message_id"]),
        "date": int(time.time()),
        "refunded": False,
    }
    _set_status(state, chat, invoice_message, "paid")
    _service(state, bot, chat, successful_payment=paid)
    return True


async def refund_star_payment(call: Call) -> bool:
    user_id = call.params.int_("user_id")
    charge_id = call.params.str_("telegram_payment_charge_id") or ""
    if not charge_id:
        raise bad_request("CHARGE_ID_EMPTY")
    charge = call.bot.charges.get(charge_id)
    if charge is None or charge["user_id"] != user_id:
        raise bad_request("CHARGE_NOT_FOUND")
    if charge["refunded"]:
        raise bad_request("CHARGE_ALREADY_REFUNDED")
    charge["refunded"] = True
    charge["refunded_date"] = int(time.time())
    chat = call.state.chats[(call.bot.id, int(charge["user_id"]))]
    refunded = {
        key: charge[key]
        for key in ("currency", "total_amount", "invoice_payload", "telegram_payment_charge_id")
    }
    _service(call.state, call.bot, chat, refunded_payment=refunded)
    invoice_message = chat.messages.get(int(charge["message_id"]))
    _set_status(call.state, chat, invoice_message, "refunded")
    return True


def redeliver(bot: Bot, update_id: int) -> int:
    """Deliver an earlier update once more, under a new ``update_id`` (a duplicate, as a retry
    of Telegram's own can produce): the same payment reaches the bot twice."""
    original = next((u for u in bot.sent if u["update_id"] == update_id), None)
    if original is None:
        raise ControlError(f"no recent update {update_id}", 404)
    kind = next(key for key in original if key != "update_id")
    return bot.push_update(kind, original[kind])
