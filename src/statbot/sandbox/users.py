"""What simulated users do: send text and commands, upload files, press inline buttons.

Each action becomes an update in the bot's queue, shaped as Telegram would send it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from statbot.sandbox.markup import detect_entities
from statbot.sandbox.state import Bot, Chat, Message, SandboxState, User
from statbot.sandbox.views import message_to_api, message_view


class ControlError(Exception):
    """A control-API request that cannot be carried out (HTTP 400/404 with ``error``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Injected:
    update_id: int
    message_id: int
    extra: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"update_id": self.update_id, "message_id": self.message_id, **self.extra}


def user_message(state: SandboxState, bot: Bot, user: User, **content: Any) -> tuple[Chat, Message]:
    chat = state.chat(bot, user)
    chat.started = True
    chat.blocked = False  # writing to a bot one blocked unblocks it, as in Telegram
    message = Message(
        message_id=chat.new_message_id(),
        chat_id=chat.id,
        from_bot=False,
        date=int(time.time()),
        **content,
    )
    chat.messages[message.message_id] = message
    state.publish("user_message", chat, message=message_view(message))
    return chat, message


def send_text(
    state: SandboxState, bot: Bot, user: User, text: str, reply_to: int | None = None
) -> Injected:
    if not text.strip():
        raise ControlError("text is empty")
    chat, message = user_message(
        state, bot, user, text=text, entities=detect_entities(text), reply_to=reply_to
    )
    update_id = bot.push_update("message", message_to_api(bot, chat, message))
    return Injected(update_id, message.message_id, {})


async def send_file(
    state: SandboxState,
    bot: Bot,
    user: User,
    data: bytes,
    file_name: str,
    *,
    mime_type: str | None = None,
    caption: str | None = None,
    as_photo: bool = False,
) -> Injected:
    if not data:
        raise ControlError("the file is empty")
    kind = "photos" if as_photo else "documents"
    stored = await state.files.put(data, file_name, mime_type, kind)
    content: dict[str, Any] = {"photo": stored} if as_photo else {"document": stored}
    if caption:
        content.update(caption=caption, caption_entities=detect_entities(caption))
    chat, message = user_message(state, bot, user, **content)
    update_id = bot.push_update("message", message_to_api(bot, chat, message))
    return Injected(update_id, message.message_id, {"file_id": stored.file_id})


def press_button(state: SandboxState, bot: Bot, user: User, message_id: int, data: str) -> Injected:
    """Press the inline button carrying ``data`` under the bot's message ``message_id``."""
    chat = state.find_chat(bot, user.id)
    message = chat.messages.get(message_id) if chat else None
    if chat is None or message is None or not message.from_bot:
        raise ControlError(f"no bot message {message_id} in {user.first_name}'s chat", 404)
    buttons = [b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]
    if not any(b.get("callback_data") == data for b in buttons):
        offered = [b.get("callback_data") for b in buttons if "callback_data" in b]
        raise ControlError(
            f"message {message_id} has no button with callback_data {data!r}; offered: {offered}"
        )
    query_id = str(secrets.randbits(63))
    bot.callback_queries[query_id] = (chat.id, False)
    query = {
        "id": query_id,
        "from": user.to_api(),
        "message": message_to_api(bot, chat, message),
        "chat_instance": chat.chat_instance,
        "data": data,
    }
    update_id = bot.push_update("callback_query", query)
    state.publish("user_press", chat, message_id=message_id, data=data)
    return Injected(update_id, message_id, {"callback_query_id": query_id})
