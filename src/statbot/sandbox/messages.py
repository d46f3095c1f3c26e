"""Bot API methods that send, edit and delete messages in a private chat."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from statbot.sandbox.files import StoredFile, image_size
from statbot.sandbox.keyboards import check_rate, parse_reply_markup
from statbot.sandbox.markup import Entity, parse_text, trim, utf16_len
from statbot.sandbox.params import ApiError, Params, bad_request
from statbot.sandbox.state import Bot, Chat, Message, SandboxState
from statbot.sandbox.views import message_to_api, message_view

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


@dataclass(frozen=True)
class Call:
    """One Bot API call: the emulator, the calling bot and its parameters."""

    state: SandboxState
    bot: Bot
    params: Params

    def chat(self) -> Chat:
        raw = self.params.str_("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except ValueError as exc:
            raise bad_request("chat not found") from exc
        user = self.state.users.get(chat_id)
        if user is None:
            raise bad_request("chat not found")
        chat = self.state.chat(self.bot, user)
        if not chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def message(self, chat: Chat, missing: str) -> Message:
        if self.params.has("inline_message_id") and not self.params.has("message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        message_id = self.params.int_("message_id")
        message = chat.messages.get(message_id) if message_id is not None else None
        if message is None:
            raise bad_request(missing)
        return message


def _formatted(
    call: Call, text_field: str, entities_field: str, mode_field: str
) -> tuple[str, list[Entity]]:
    text = call.params.str_(text_field) or ""
    mode = call.params.str_(mode_field)
    if not mode and call.params.has(entities_field):
        entities = call.params.json_(entities_field)
        return trim(text, list(entities or []))
    return parse_text(text, mode)


def _caption(call: Call) -> tuple[str | None, list[Entity]]:
    if not call.params.str_("caption"):
        return None, []
    caption, entities = _formatted(call, "caption", "caption_entities", "parse_mode")
    if utf16_len(caption) > 1024:
        raise bad_request("message caption is too long")
    return (caption or None), entities


def _reply_to(call: Call, chat: Chat) -> int | None:
    parameters = call.params.json_("reply_parameters")
    reply_to = call.params.int_("reply_to_message_id")
    allow = call.params.bool_("allow_sending_without_reply")
    if isinstance(parameters, dict):
        reply_to = parameters.get("message_id")
        allow = allow or bool(parameters.get("allow_sending_without_reply"))
    if reply_to is None or reply_to in chat.messages:
        return reply_to
    if allow:
        return None
    raise bad_request("message to be replied not found")


def _deliver(call: Call, chat: Chat, message: Message) -> dict[str, Any]:
    chat.messages[message.message_id] = message
    call.state.publish("message", chat, message=message_view(message))
    return message_to_api(call.bot, chat, message)


def _new_message(call: Call, chat: Chat, **fields: Any) -> Message:
    inline, reply_keyboard = parse_reply_markup(call.params)
    return Message(
        message_id=chat.new_message_id(),
        chat_id=chat.id,
        from_bot=True,
        date=int(time.time()),
        reply_markup=inline,
        reply_keyboard=reply_keyboard,
        reply_to=_reply_to(call, chat),
        **fields,
    )


async def send_message(call: Call) -> dict[str, Any]:
    chat = call.chat()
    text, entities = _formatted(call, "text", "entities", "parse_mode")
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > 4096:
        raise bad_request("message is too long")
    message = _new_message(call, chat, text=text, entities=entities)
    check_rate(chat, call.state.config.rate_limit_per_chat)
    return _deliver(call, chat, message)


async def resolve_file(call: Call, field_name: str, kind: str, value: Any = None) -> StoredFile:
    """An InputFile: an uploaded part (by field name or attach://name) or a known file_id."""
    upload = call.params.upload(field_name) if value is None else None
    if value is None:
        value = call.params.str_(field_name)
    if upload is None and isinstance(value, str) and value.startswith("attach://"):
        upload = call.params.upload(value.removeprefix("attach://"))
        if upload is None:
            raise bad_request(f"file {value} not found in the request")
    if upload is not None:
        if len(upload.data) > call.state.config.max_upload_bytes:
            raise ApiError(413, "Request Entity Too Large")
        if kind == "photos" and image_size(upload.data) is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        return await call.state.files.put(upload.data, upload.file_name, upload.content_type, kind)
    if not value:
        singular = kind.removesuffix("s")
        raise bad_request(f"there is no {singular} in the request")
    if str(value).startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")  # the sandbox never fetches URLs
    stored = call.state.files.get(str(value))
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if not stored.file_path.startswith(kind + "/"):
        have = "Photo" if stored.file_path.startswith("photos/") else "Document"
        want = "Photo" if kind == "photos" else "Document"
        raise bad_request(f"can't use file of type {have} as {want}")
    return stored


async def send_photo(call: Call) -> dict[str, Any]:
    chat = call.chat()
    caption, caption_entities = _caption(call)
    stored = await resolve_file(call, "photo", "photos")
    message = _new_message(
        call, chat, photo=stored, caption=caption, caption_entities=caption_entities
    )
    check_rate(chat, call.state.config.rate_limit_per_chat)
    return _deliver(call, chat, message)


async def send_document(call: Call) -> dict[str, Any]:
    chat = call.chat()
    caption, caption_entities = _caption(call)
    stored = await resolve_file(call, "document", "documents")
    message = _new_message(
        call, chat, document=stored, caption=caption, caption_entities=caption_entities
    )
    check_rate(chat, call.state.config.rate_limit_per_chat)
    return _deliver(call, chat, message)


async def send_media_group(call: Call) -> list[dict[str, Any]]:
    chat = call.chat()
    media = call.params.json_("media", "can't parse media JSON object")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media in the media group: must be 2-10")
    kinds = {item.get("type") if isinstance(item, dict) else None for item in media}
    if not kinds <= {"photo", "document"}:
        raise bad_request("the sandbox supports photo and document media groups only")
    if "document" in kinds and len(kinds) > 1:
        raise bad_request("document can't be mixed with another media types")
    reply_to = _reply_to(call, chat)
    prepared: list[tuple[StoredFile, str, str | None, list[Entity]]] = []
    for item in media:
        kind = "photos" if item["type"] == "photo" else "documents"
        stored = await resolve_file(call, "media", kind, value=item.get("media") or "")
        text = item.get("caption")
        caption, entities = parse_text(str(text), item.get("parse_mode")) if text else ("", [])
        prepared.append((stored, kind, caption or None, entities))
    check_rate(chat, call.state.config.rate_limit_per_chat, count=len(prepared))
    group_id = str(secrets.randbelow(10**17) + 10**17)
    sent: list[dict[str, Any]] = []
    for stored, kind, item_caption, item_entities in prepared:
        message = Message(
            message_id=chat.new_message_id(),
            chat_id=chat.id,
            from_bot=True,
            date=int(time.time()),
            caption=item_caption,
            caption_entities=item_entities,
            media_group_id=group_id,
            reply_to=reply_to,
            photo=stored if kind == "photos" else None,
            document=stored if kind == "documents" else None,
        )
        sent.append(_deliver(call, chat, message))
    return sent


def _edited(call: Call, chat: Chat, message: Message) -> dict[str, Any]:
    message.edit_date = int(time.time())
    message.edits += 1
    call.state.publish("edit", chat, message=message_view(message))
    return message_to_api(call.bot, chat, message)


def _editable(call: Call) -> tuple[Chat, Message]:
    chat = call.chat()
    message = call.message(chat, "message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return chat, message


async def edit_message_text(call: Call) -> dict[str, Any]:
    chat, message = _editable(call)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = _formatted(call, "text", "entities", "parse_mode")
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > 4096:
        raise bad_request("message is too long")
    # Telegram drops the inline keyboard when an edit does not repeat it.
    inline, _reply = parse_reply_markup(call.params)
    if (text, entities, inline) == (message.text, message.entities, message.reply_markup):
        raise bad_request(_NOT_MODIFIED)
    check_rate(chat, call.state.config.rate_limit_per_chat)
    message.text, message.entities, message.reply_markup = text, entities, inline
    return _edited(call, chat, message)


async def edit_message_caption(call: Call) -> dict[str, Any]:
    chat, message = _editable(call)
    if message.photo is None and message.document is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = _caption(call)
    inline, _reply = parse_reply_markup(call.params)
    if (caption, entities, inline) == (
        message.caption,
        message.caption_entities,
        message.reply_markup,
    ):
        raise bad_request(_NOT_MODIFIED)
    check_rate(chat, call.state.config.rate_limit_per_chat)
    message.caption, message.caption_entities, message.reply_markup = caption, entities, inline
    return _edited(call, chat, message)


async def edit_message_reply_markup(call: Call) -> dict[str, Any]:
    chat, message = _editable(call)
    inline, _reply = parse_reply_markup(call.params)
    if inline == message.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    check_rate(chat, call.state.config.rate_limit_per_chat)
    message.reply_markup = inline
    return _edited(call, chat, message)


async def delete_message(call: Call) -> bool:
    chat = call.chat()
    message = call.message(chat, "message to delete not found")
    del chat.messages[message.message_id]
    call.state.publish("delete", chat, message_id=message.message_id)
    return True


async def answer_callback_query(call: Call) -> bool:
    query_id = call.params.str_("callback_query_id") or ""
    entry = call.bot.callback_queries.get(query_id)
    if entry is None or entry[1]:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    chat_id, _answered = entry
    if len(call.params.str_("text") or "") > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    call.bot.callback_queries[query_id] = (chat_id, True)
    chat = call.state.chats[(call.bot.id, chat_id)]
    answer = {
        "callback_query_id": query_id,
        "text": call.params.str_("text"),
        "show_alert": call.params.bool_("show_alert"),
        "url": call.params.str_("url"),
        "date": time.time(),
    }
    chat.callback_answers.append(answer)
    call.state.publish("callback_answer", chat, answer=answer)
    return True


async def send_chat_action(call: Call) -> bool:
    chat = call.chat()
    action = call.params.str_("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    entry = {"action": action, "date": time.time()}
    chat.actions.append(entry)
    call.state.publish("action", chat, action=entry)
    return True
