"""The control API under ``/_sandbox/``: what the web page and tests use to act as users.

JSON in, JSON out; errors are ``{"error": "..."}`` with a 4xx status. ``user_id`` defaults to
the first user (Alice), ``bot_id`` to the first bot. Wait endpoints long-poll and answer 408
with the chat's current view when their condition is not met in time.

    GET  /_sandbox/info                      bots, users, current event seq
    POST /_sandbox/users      {first_name}   add a simulated user
    POST /_sandbox/messages   {user_id, bot_id, text}              → {update_id, message_id}
    POST /_sandbox/uploads    JSON {file_name, content_base64, caption, mime_type, as_photo}
                              or multipart (file, user_id, bot_id, caption)  → {update_id, ...}
    POST /_sandbox/presses    {user_id, bot_id, message_id, data}  → {update_id, callback_query_id}
    POST /_sandbox/blocks     {user_id, bot_id, blocked}   the user blocks (or unblocks) the bot:
                                             its calls to the chat answer 403 "Forbidden: bot
                                             was blocked by the user"; writing unblocks
    GET  /_sandbox/chats/{user_id}?bot_id=   messages (current text after edits), actions,
                                             callback answers, the command menu
    POST /_sandbox/wait       {user_id, bot_messages, after_message_id, changed_since,
                               text_contains, idle_ms, timeout}
    GET  /_sandbox/events?since=&timeout=    the event feed the page follows
    POST /_sandbox/reset                     forget chats, messages, updates, files
    GET|POST /_sandbox/config                rate_limit_per_chat, max_download_bytes,
                                             hold_sends (drills; info counts held_sends), ...
    GET  /_sandbox/files/{file_unique_id}/{name}   a file's bytes (no token needed)

Telegram Stars (pay, charges, redeliver, hand-made updates): ``pay_control.py``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from typing import Any

from aiohttp import web

from statbot.sandbox import users
from statbot.sandbox.botapi import commands_for_chat
from statbot.sandbox.state import Bot, SandboxState, User
from statbot.sandbox.users import ControlError
from statbot.sandbox.views import chat_view

MAX_WAIT_SECONDS = 120.0


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


class Control:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_sandbox/info", self.info),
            web.post("/_sandbox/users", self.add_user),
            web.post("/_sandbox/messages", self.message),
            web.post("/_sandbox/uploads", self.upload),
            web.post("/_sandbox/presses", self.press),
            web.post("/_sandbox/blocks", self.block),
            web.get("/_sandbox/chats/{user_id}", self.chat),
            web.post("/_sandbox/wait", self.wait),
            web.get("/_sandbox/events", self.events),
            web.post("/_sandbox/reset", self.reset),
            web.get("/_sandbox/config", self.get_config),
            web.post("/_sandbox/config", self.set_config),
            web.get("/_sandbox/files/{file_unique_id}/{name}", self.file),
        ]

    # -- helpers ---------------------------------------------------------------------------

    def _bot(self, raw: Any) -> Bot:
        bot = self.state.bot_by_id(int(raw) if raw not in (None, "") else None)
        if bot is None:
            raise ControlError(f"no bot with id {raw}", 404)
        return bot

    def _user(self, raw: Any) -> User:
        if raw in (None, "", "default"):
            return next(iter(self.state.users.values()))
        user = self.state.users.get(int(raw))
        if user is None:
            raise ControlError(f"no user with id {raw}", 404)
        return user

    @staticmethod
    async def _json(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError as exc:
            raise ControlError("the body must be a JSON object") from exc
        if not isinstance(body, dict):
            raise ControlError("the body must be a JSON object")
        return body

    @web.middleware
    async def errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except ControlError as exc:
            return _error(str(exc), exc.status)
        except (TypeError, ValueError) as exc:
            if not request.path.startswith("/_sandbox/"):
                raise
            return _error(f"bad request: {exc}")
        return response

    # -- endpoints -------------------------------------------------------------------------

    async def info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "bots": [
                    {"id": b.id, "first_name": b.first_name, "username": b.username}
                    for b in self.state.bots.values()
                ],
                "users": [u.to_api() for u in self.state.users.values()],
                "seq": self.state.event_seq,
                "held_sends": self.state.held_sends,
            }
        )

    async def add_user(self, request: web.Request) -> web.Response:
        name = str((await self._json(request)).get("first_name", "")).strip()
        if not name:
            raise ControlError("first_name is required")
        return web.json_response(self.state.add_user(name).to_api())

    async def message(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        injected = users.send_text(
            self.state,
            self._bot(body.get("bot_id")),
            self._user(body.get("user_id")),
            str(body.get("text", "")),
            reply_to=body.get("reply_to_message_id"),
        )
        return web.json_response(injected.to_json())

    async def upload(self, request: web.Request) -> web.Response:
        if request.content_type == "multipart/form-data":
            form = await request.post()
            part = form.get("file")
            if not isinstance(part, web.FileField):
                raise ControlError("multipart upload needs a 'file' part")
            fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
            data = await asyncio.to_thread(part.file.read)
            name = part.filename or "file"
            mime: Any = part.content_type
        else:
            fields = await self._json(request)
            try:
                data = base64.b64decode(str(fields.get("content_base64", "")), validate=True)
            except binascii.Error as exc:
                raise ControlError("content_base64 is not valid base64") from exc
            name = str(fields.get("file_name") or "file")
            mime = fields.get("mime_type")
        as_photo = str(fields.get("as_photo", "")).lower() in ("1", "true")
        injected = await users.send_file(
            self.state,
            self._bot(fields.get("bot_id")),
            self._user(fields.get("user_id")),
            data,
            name,
            mime_type=str(mime) if mime else None,
            caption=str(fields["caption"]) if fields.get("caption") else None,
            as_photo=as_photo,
        )
        return web.json_response(injected.to_json())

    async def press(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        injected = users.press_button(
            self.state,
            self._bot(body.get("bot_id")),
            self._user(body.get("user_id")),
            int(body["message_id"]),
            str(body["data"]),
        )
        return web.json_response(injected.to_json())

    async def block(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        bot, user = self._bot(body.get("bot_id")), self._user(body.get("user_id"))
        chat = self.state.chat(bot, user)
        chat.blocked = bool(body.get("blocked", True))
        return web.json_response({"user_id": user.id, "blocked": chat.blocked})

    def _view(self, bot: Bot, user: User) -> dict[str, Any]:
        chat = self.state.find_chat(bot, user.id)
        if chat is None:
            chat = self.state.chat(bot, user)
        view = chat_view(chat)
        view["commands"] = commands_for_chat(bot, user.id)
        view["seq"] = self.state.event_seq
        return view

    async def chat(self, request: web.Request) -> web.Response:
        bot = self._bot(request.query.get("bot_id"))
        return web.json_response(self._view(bot, self._user(request.match_info["user_id"])))

    async def wait(self, request: web.Request) -> web.Response:
        """Until every given condition holds, then the chat's view; 408 with the view on timeout.

        ``bot_messages``: at least that many bot messages after ``after_message_id``;
        ``changed_since``: the bot sent, edited or deleted something after that event ``seq``
        (every view carries its ``seq``); ``text_contains``: a bot message's current text or
        caption contains it; ``idle_ms``: the bot has done nothing in the chat for that long.
        """
        body = await self._json(request)
        bot, user = self._bot(body.get("bot_id")), self._user(body.get("user_id"))
        wanted = int(body.get("bot_messages", 0))
        after = int(body.get("after_message_id", 0))
        changed_since = body.get("changed_since")
        needle = body.get("text_contains")
        idle = float(body.get("idle_ms", 0)) / 1000.0
        timeout = min(float(body.get("timeout", 10.0)), MAX_WAIT_SECONDS)
        start = time.monotonic()
        deadline = start + timeout
        while True:
            now = time.monotonic()
            chat = self.state.find_chat(bot, user.id)
            bot_messages = [m for m in chat.messages.values() if m.from_bot] if chat else []
            missing = []
            count = sum(1 for m in bot_messages if m.message_id > after)
            if count < wanted:
                missing.append(f"{count}/{wanted} bot messages")
            if changed_since is not None and (
                chat is None or chat.last_bot_seq <= int(changed_since)
            ):
                missing.append(f"no bot change since event {changed_since}")
            if needle is not None and not any(
                str(needle) in ((m.text or "") + "\n" + (m.caption or "")) for m in bot_messages
            ):
                missing.append(f"no bot message contains {needle!r}")
            quiet_for = now - max(chat.last_bot_activity if chat else 0.0, start)
            if not missing and quiet_for >= idle:
                return web.json_response(self._view(bot, user))
            if now >= deadline:
                view = self._view(bot, user)
                reason = "; ".join(missing) or f"the bot was not idle for {idle * 1000:g} ms"
                view["error"] = f"timed out after {timeout:g}s: {reason}"
                return web.json_response(view, status=408)
            sleep = deadline - now
            if not missing:
                sleep = min(sleep, idle - quiet_for)
            await self.state.changed.wait(sleep)

    async def events(self, request: web.Request) -> web.Response:
        """Long-poll the event feed (the page follows it): events with ``seq`` > ``since``."""
        since = int(request.query.get("since", "0"))
        timeout = min(float(request.query.get("timeout", "25")), MAX_WAIT_SECONDS)
        deadline = time.monotonic() + timeout
        while True:
            if since > self.state.event_seq or (
                self.state.events and self.state.events[0]["seq"] > since + 1
            ):
                # Events were dropped (reset, or the bounded log wrapped): the page reloads.
                return web.json_response(
                    {"seq": self.state.event_seq, "events": [{"type": "reset"}]}
                )
            fresh = [e for e in self.state.events if e["seq"] > since]
            remaining = deadline - time.monotonic()
            if fresh or remaining <= 0:
                return web.json_response({"seq": self.state.event_seq, "events": fresh})
            await self.state.changed.wait(remaining)

    async def reset(self, request: web.Request) -> web.Response:
        self.state.reset()
        return web.json_response({"ok": True})

    async def get_config(self, request: web.Request) -> web.Response:
        return web.json_response(vars(self.state.config))

    async def set_config(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        config = self.state.config
        for key, value in body.items():
            if not hasattr(config, key):
                raise ControlError(f"unknown setting {key!r}")
            setattr(config, key, type(getattr(config, key))(value))
        self.state.changed.fire()  # held sends look at hold_sends again
        return web.json_response(vars(config))

    async def file(self, request: web.Request) -> web.StreamResponse:
        stored = self.state.files.by_unique_id(request.match_info["file_unique_id"])
        if stored is None:
            raise ControlError("no such file", 404)
        inline = stored.mime_type.startswith("image/")
        disposition = "inline" if inline else f'attachment; filename="{stored.file_name}"'
        return web.FileResponse(
            stored.disk_path,
            headers={"Content-Type": stored.mime_type, "Content-Disposition": disposition},
        )
