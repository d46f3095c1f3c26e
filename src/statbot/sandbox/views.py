"""Serialising the emulator's messages: as Bot API ``Message`` objects, and as control-API views."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from statbot.sandbox.files import StoredFile
from statbot.sandbox.state import Bot, Chat, Message


def message_to_api(
    bot: Bot, chat: Chat, message: Message, *, nested: bool = False
) -> dict[str, Any]:
    """The Bot API ``Message`` the bot sees (in replies to its calls and in updates)."""
    body: dict[str, Any] = {
        "message_id": message.message_id,
        "from": bot.as_user() if message.from_bot else chat.user.to_api(),
        "chat": chat.to_api(),
        "date": message.date,
    }
    if message.edit_date is not None:
        body["edit_date"] = message.edit_date
    if message.media_group_id:
        body["media_group_id"] = message.media_group_id
    if message.text is not None:
        body["text"] = message.text
        if message.entities:
            body["entities"] = message.entities
    if message.photo is not None:
        body["photo"] = message.photo.as_photo()
    if message.document is not None:
        body["document"] = message.document.as_document()
    if message.caption is not None:
        body["caption"] = message.caption
        if message.caption_entities:
            body["caption_entities"] = message.caption_entities
    for name in ("invoice", "successful_payment", "refunded_payment"):
        if getattr(message, name) is not None:
            body[name] = getattr(message, name)
    if message.reply_markup is not None:
        body["reply_markup"] = message.reply_markup
    if message.reply_to is not None and not nested:
        replied = chat.messages.get(message.reply_to)
        if replied is not None:
            body["reply_to_message"] = message_to_api(bot, chat, replied, nested=True)
    return body


def file_url(stored: StoredFile) -> str:
    """Where the page (and tests) download a file without knowing the bot token."""
    return f"/_sandbox/files/{stored.file_unique_id}/{quote(stored.file_name)}"


def message_view(message: Message) -> dict[str, Any]:
    """A message as the page and the control API see it: current content after edits."""
    view: dict[str, Any] = {
        "message_id": message.message_id,
        "from_bot": message.from_bot,
        "date": message.date,
        "text": message.text,
        "entities": message.entities,
        "caption": message.caption,
        "caption_entities": message.caption_entities,
        "reply_markup": message.reply_markup,
        "reply_keyboard": message.reply_keyboard,
        "reply_to_message_id": message.reply_to,
        "media_group_id": message.media_group_id,
        "edited": message.edit_date is not None,
        "edits": message.edits,
        "sent_at": message.sent_at,
        "photo": None,
        "document": None,
        "invoice": message.invoice,
        "payment_status": message.payment_status,
        "payment_error": message.payment_error,
        "successful_payment": message.successful_payment,
        "refunded_payment": message.refunded_payment,
    }
    if message.photo is not None:
        view["photo"] = {
            "url": file_url(message.photo),
            "file_id": message.photo.file_id,
            "width": message.photo.width,
            "height": message.photo.height,
            "file_size": message.photo.file_size,
        }
    if message.document is not None:
        view["document"] = {
            "url": file_url(message.document),
            "file_id": message.document.file_id,
            "file_name": message.document.file_name,
            "mime_type": message.document.mime_type,
            "file_size": message.document.file_size,
        }
    return view


def chat_view(chat: Chat) -> dict[str, Any]:
    return {
        "bot_id": chat.bot_id,
        "chat_id": chat.id,
        "user": chat.user.to_api(),
        "messages": [message_view(m) for m in sorted(chat.messages.values(), key=_by_id)],
        "actions": list(chat.actions),
        "callback_answers": list(chat.callback_answers),
    }


def _by_id(message: Message) -> int:
    return message.message_id
