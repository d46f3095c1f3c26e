"""The Bot API endpoints: ``/bot<token>/<method>`` and ``/file/bot<token>/<file_path>``.

Method names are case-insensitive, as in Telegram; an unknown token is 401 "Unauthorized", an
unknown method 404 "Not Found".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from statbot.sandbox import messages, payments
from statbot.sandbox.messages import Call
from statbot.sandbox.params import ApiError, Params, bad_request
from statbot.sandbox.state import Bot, SandboxState
from statbot.sandbox.updates import Webhooks, get_updates

log = logging.getLogger(__name__)

Handler = Callable[[Call], Awaitable[Any]]
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SENDS = frozenset({"sendmessage", "sendphoto", "senddocument", "sendmediagroup"})


async def get_me(call: Call) -> dict[str, Any]:
    return call.bot.to_api()


async def log_out(call: Call) -> bool:
    return True


async def get_chat(call: Call) -> dict[str, Any]:
    chat = call.chat()
    return {**chat.to_api(), "accent_color_id": 0, "max_reaction_count": 11}


# BotCommandScope types (core.telegram.org/bots/api#botcommandscope); the last three name a chat.
_SCOPES = frozenset({"default", "all_private_chats", "all_group_chats", "all_chat_administrators"})
_CHAT_SCOPES = frozenset({"chat", "chat_administrators", "chat_member"})


def _scope_key(call: Call) -> tuple[str, str]:
    """``("default", lang)`` or ``("chat:<id>", lang)``: where a menu is kept. An unknown scope
    type, or a chat scope without a chat id, is refused as Telegram refuses it."""
    scope = call.params.json_("scope", "can't parse BotCommandScope JSON object") or {}
    if not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = str(scope.get("type", "default"))
    if kind not in _SCOPES | _CHAT_SCOPES:
        raise bad_request("unsupported bot command scope type")
    if kind in _CHAT_SCOPES:
        chat_id = scope.get("chat_id")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int | str) or chat_id == "":
            raise bad_request("chat not found")
        kind += f":{chat_id}"
        if kind.startswith("chat_member") and not isinstance(scope.get("user_id"), int):
            raise bad_request("user not found")
    return kind, call.params.str_("language_code") or ""


async def set_my_commands(call: Call) -> bool:
    commands = call.params.json_("commands", "can't parse commands JSON object")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    clean: list[dict[str, str]] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", "")).removeprefix("/")
        description = str(item.get("description", ""))
        if not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": command, "description": description})
    call.bot.commands[_scope_key(call)] = clean
    return True


async def get_my_commands(call: Call) -> list[dict[str, str]]:
    return list(call.bot.commands.get(_scope_key(call), []))


async def delete_my_commands(call: Call) -> bool:
    call.bot.commands.pop(_scope_key(call), None)
    return True


def commands_for_chat(bot: Bot, chat_id: int, language: str = "en") -> list[dict[str, str]]:
    """The command menu a private chat shows, in Telegram's scope order."""
    for key in (
        (f"chat:{chat_id}", language),
        (f"chat:{chat_id}", ""),
        ("all_private_chats", language),
        ("all_private_chats", ""),
        ("default", language),
        ("default", ""),
    ):
        if key in bot.commands:
            return list(bot.commands[key])
    return []


async def get_file(call: Call) -> dict[str, Any]:
    stored = call.state.files.get(call.params.str_("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.file_size > call.state.config.max_download_bytes:
        raise bad_request("file is too big")
    return stored.as_file()


class BotApi:
    """Routes Bot API requests to the method handlers."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.webhooks = Webhooks(state, self.execute)
        self.methods: dict[str, Handler] = {
            "getme": get_me,
            "logout": log_out,
            "close": log_out,
            "getchat": get_chat,
            "getupdates": get_updates,
            "setwebhook": self.webhooks.set_webhook,
            "deletewebhook": self.webhooks.delete_webhook,
            "getwebhookinfo": self.webhooks.get_webhook_info,
            "sendmessage": messages.send_message,
            "sendphoto": messages.send_photo,
            "senddocument": messages.send_document,
            "sendmediagroup": messages.send_media_group,
            "editmessagetext": messages.edit_message_text,
            "editmessagecaption": messages.edit_message_caption,
            "editmessagereplymarkup": messages.edit_message_reply_markup,
            "deletemessage": messages.delete_message,
            "answercallbackquery": messages.answer_callback_query,
            "sendchataction": messages.send_chat_action,
            "sendinvoice": payments.send_invoice,
            "answerprecheckoutquery": payments.answer_pre_checkout_query,
            "refundstarpayment": payments.refund_star_payment,
            "getfile": get_file,
            "setmycommands": set_my_commands,
            "getmycommands": get_my_commands,
            "deletemycommands": delete_my_commands,
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.route("*", r"/bot{token}/{method}", self.handle),
            web.get(r"/file/bot{token}/{file_path:.+}", self.download),
        ]

    async def execute(self, bot: Bot, method: str, values: dict[str, Any]) -> Any:
        handler = self.methods.get(method.lower())
        if handler is None:
            raise ApiError(404, "Not Found")
        return await handler(Call(self.state, bot, Params(values, {})))

    async def handle(self, request: web.Request) -> web.Response:
        try:
            bot = self.state.bots.get(request.match_info["token"])
            if bot is None:
                raise ApiError(401, "Unauthorized")
            method = request.match_info["method"]
            handler = self.methods.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            params = await Params.from_request(request)
            if method.lower() in _SENDS and self.state.config.hold_sends:
                await self._hold(request)
            result = await handler(Call(self.state, bot, params))
        except ApiError as exc:
            if exc.code >= 500:
                log.error("sandbox %s failed: %s", request.match_info.get("method"), exc)
            return web.json_response(exc.payload(), status=exc.code)
        except web.HTTPRequestEntityTooLarge:
            return web.json_response(
                ApiError(413, "Request Entity Too Large").payload(), status=413
            )
        except Exception:
            # A bug in the emulator must still look like a Bot API error to the client under test.
            log.exception("sandbox %s crashed", request.match_info.get("method"))
            return web.json_response(ApiError(500, "Internal Server Error").payload(), status=500)
        return web.json_response({"ok": True, "result": result})

    async def _hold(self, request: web.Request) -> None:
        """Wait while ``hold_sends`` is set; a call whose client has gone meanwhile is dropped
        without being recorded (the drill killed the bot with this request in flight)."""
        self.state.held_sends += 1
        self.state.changed.fire()  # a drill waits for a held call
        try:
            while self.state.config.hold_sends:
                await self.state.changed.wait(1.0)  # set_config fires it
        finally:
            self.state.held_sends -= 1
        if request.transport is None or request.transport.is_closing():
            raise ApiError(500, "Internal Server Error: the client went away")

    async def download(self, request: web.Request) -> web.StreamResponse:
        bot = self.state.bots.get(request.match_info["token"])
        stored = self.state.files.by_path(request.match_info["file_path"])
        if bot is None:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        if stored is None or stored.file_size > self.state.config.max_download_bytes:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.FileResponse(stored.disk_path, headers={"Content-Type": stored.mime_type})
