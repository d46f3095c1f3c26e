"""Telegram Update JSON → engine Event. Pure and total: any input yields an Event or None.

Works on the raw JSON dict (not PTB objects) so a malformed or unexpected update can never raise
out of the ingress; it is logged and skipped instead (a fuzz test feeds generated updates).
Callback data of our buttons is ``<m|p|d|n>:<arg>`` (see render.py); the option it names is
resolved by the channel from its menu table, so only the raw data is carried here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from statbot.engine.events import ConversationKey, Event, EventKind, Payment, Upload

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# What the bot asks Telegram for; a pre-checkout query is an update of its own (issue 12).
ALLOWED_UPDATES = ("message", "callback_query", "pre_checkout_query")


@dataclass(frozen=True, slots=True)
class Callback:
    """A button press, before the channel resolves it against its menu table."""

    update_id: int
    key: ConversationKey
    query_id: str
    chat_id: int
    message_id: int
    data: str
    sender: dict[str, str]  # name, username, language (see sender())


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -(2**63) <= value < 2**63 else None  # what SQLite can store


def _str(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud83d" of a cut emoji): not storable
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def _dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _key(chat: dict[str, Any] | None, user: dict[str, Any] | None) -> ConversationKey | None:
    chat_id = _int(chat.get("id")) if chat else None
    user_id = _int(user.get("id")) if user else None
    if chat_id is None:
        return None
    # Channel posts have no sender; the chat speaks for itself.
    return ConversationKey(CHANNEL, chat_id, user_id if user_id is not None else chat_id)


def sender(user: dict[str, Any] | None) -> dict[str, str]:
    """The sender's name, @username and language code, as the engine's Event carries them."""
    if not user:
        return {}
    first, last = _str(user.get("first_name")) or "", _str(user.get("last_name")) or ""
    found = {
        "name": f"{first} {last}".strip()[:256],
        "username": (_str(user.get("username")) or "")[:64],
        "language": (_str(user.get("language_code")) or "")[:16],
    }
    return {k: v for k, v in found.items() if v}


def split_command(text: str, bot_username: str | None = None) -> tuple[str, str] | None:
    """``/train@statbot  a b`` → ("train", "a b"); None when not a command for us."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    name, _, target = head.partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    if not name or not all(c.isalnum() or c == "_" for c in name):
        return None
    return name.lower(), rest.strip()


def parse_update(raw: Any, bot_username: str | None = None) -> Event | Callback | None:
    """Translate one update. Returns None for updates statbot does not act on."""
    try:
        return _parse(raw, bot_username)
    except Exception:  # a parser bug must not stop the ingress; the update is skipped
        log.exception("could not parse update; skipped")
        return None


def _parse(raw: Any, bot_username: str | None) -> Event | Callback | None:
    update = _dict(raw)
    if update is None:
        return None
    update_id = _int(update.get("update_id"))
    if update_id is None:
        return None
    query = _dict(update.get("callback_query"))
    if query is not None:
        return _parse_callback(update_id, query)
    checkout = _dict(update.get("pre_checkout_query"))
    if checkout is not None:
        return _parse_checkout(update_id, checkout)
    message = _dict(update.get("message"))
    if message is None:
        return None
    key = _key(_dict(message.get("chat")), _dict(message.get("from")))
    if key is None:
        return None
    at = float(_int(message.get("date")) or 0) or None
    extra: dict[str, Any] = {"at": at} if at else {}
    extra.update(sender(_dict(message.get("from"))))
    for field, kind in _PAYMENT_MESSAGES:
        paid = _dict(message.get(field))
        if paid is not None:
            payment = _payment(paid, charge=True)
            if payment is None:
                return None
            return Event.from_update(key, update_id, kind, payment=payment, **extra)
    document = _dict(message.get("document"))
    caption = _str(message.get("caption")) or ""
    if document is not None:
        upload = Upload(
            file_name=_str(document.get("file_name")) or "upload",
            size=_int(document.get("file_size")) or 0,
            file_id=_str(document.get("file_id")) or "",
            mime_type=_str(document.get("mime_type")),
        )
        if not upload.file_id:
            return None
        return Event.from_update(
            key, update_id, EventKind.UPLOAD, upload=upload, text=caption, **extra
        )
    text = _str(message.get("text"))
    if text is None:
        return None
    command = split_command(text, bot_username)
    if command is not None:
        name, args = command
        return Event.from_update(key, update_id, EventKind.COMMAND, text=name, args=args, **extra)
    if text.startswith("/") and split_command(text) is not None:
        return None  # a command addressed to another bot in a group
    return Event.from_update(key, update_id, EventKind.TEXT, text=text, **extra)


_PAYMENT_MESSAGES = (
    ("successful_payment", EventKind.PAYMENT),
    ("refunded_payment", EventKind.REFUND),
)


def _payment(raw: dict[str, Any], *, charge: bool) -> Payment | None:
    """A ``SuccessfulPayment``/``RefundedPayment`` (``charge``) or a ``PreCheckoutQuery``."""
    currency = _str(raw.get("currency"))
    amount = _int(raw.get("total_amount"))
    payload = _str(raw.get("invoice_payload"))
    if currency is None or amount is None or payload is None:
        return None
    if not charge:
        query_id = _str(raw.get("id"))
        return Payment(currency, amount, payload, query_id=query_id) if query_id else None
    charge_id = _str(raw.get("telegram_payment_charge_id"))
    if not charge_id:
        return None
    provider = _str(raw.get("provider_payment_charge_id")) or ""
    return Payment(currency, amount, payload, charge_id=charge_id, provider_charge_id=provider)


def _parse_checkout(update_id: int, query: dict[str, Any]) -> Event | None:
    # A pre-checkout query has a payer but no chat: the invoice was paid in the private chat
    # with them, whose id is theirs (Telegram's private chat ids are the user ids).
    user = _dict(query.get("from"))
    key = _key(user, user)
    payment = _payment(query, charge=False)
    if key is None or payment is None:
        return None
    return Event.from_update(key, update_id, EventKind.PRE_CHECKOUT, payment=payment)


def _parse_callback(update_id: int, query: dict[str, Any]) -> Callback | None:
    message = _dict(query.get("message"))
    chat = _dict(message.get("chat")) if message else None
    user = _dict(query.get("from"))
    key = _key(chat, user)
    query_id = _str(query.get("id"))
    data = _str(query.get("data"))
    message_id = _int(message.get("message_id")) if message else None
    if key is None or query_id is None or data is None or message_id is None:
        return None
    return Callback(update_id, key, query_id, key.chat_id, message_id, data, sender(user))
