"""``SandboxClient``: drive a running sandbox as its users would, and read what the bot did.

async with SandboxClient("http://127.0.0.1:8765") as sb:
    await sb.send("/start")                       # as Alice, to the first bot
    chat = await sb.wait_for_bot_messages(1)
    await sb.press(chat.bot_messages[-1].message_id, "train")
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from statbot.errors import ChannelError
from statbot.sandbox.pay_client import PaymentActions


class SandboxError(ChannelError):
    """The control API refused a request (``status`` is its HTTP status)."""

    def __init__(self, status: int, message: str, view: dict[str, Any] | None = None) -> None:
        super().__init__(f"sandbox: HTTP {status}: {message}")
        self.status = status
        self.view = view


class SandboxTimeout(SandboxError):
    """A wait helper's condition was not met in time; ``chat`` is what the chat looked like."""

    def __init__(self, message: str, chat: ChatView) -> None:
        super().__init__(408, message, chat.raw)
        self.chat = chat


@dataclass(frozen=True)
class SentMessage:
    """One message in a chat, with its current content (after edits)."""

    raw: dict[str, Any]

    @property
    def message_id(self) -> int:
        return int(self.raw["message_id"])

    @property
    def from_bot(self) -> bool:
        return bool(self.raw["from_bot"])

    @property
    def text(self) -> str | None:
        return self.raw.get("text")

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def edited(self) -> bool:
        return bool(self.raw.get("edited"))

    @property
    def sent_at(self) -> float:
        """When the emulator took the message (UNIX seconds, sub-second precision)."""
        return float(self.raw.get("sent_at", 0.0))

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        return list((self.raw.get("reply_markup") or {}).get("inline_keyboard", []))

    @property
    def button_data(self) -> list[str]:
        """Every callback_data of the inline keyboard, row by row."""
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]

    @property
    def photo(self) -> dict[str, Any] | None:
        return self.raw.get("photo")

    @property
    def document(self) -> dict[str, Any] | None:
        return self.raw.get("document")

    @property
    def invoice(self) -> dict[str, Any] | None:
        """The Bot API ``Invoice`` of a bot's invoice message (title, total_amount, ...)."""
        return self.raw.get("invoice")

    @property
    def payment_status(self) -> str | None:
        """pending, paid, declined, expired or refunded; None while not paid."""
        return self.raw.get("payment_status")


@dataclass(frozen=True)
class ChatView:
    raw: dict[str, Any]
    messages: list[SentMessage] = field(default_factory=list)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> ChatView:
        return cls(raw, [SentMessage(m) for m in raw.get("messages", [])])

    @property
    def bot_messages(self) -> list[SentMessage]:
        return [m for m in self.messages if m.from_bot]

    @property
    def actions(self) -> list[str]:
        return [a["action"] for a in self.raw.get("actions", [])]

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        return list(self.raw.get("callback_answers", []))

    @property
    def seq(self) -> int:
        """The event feed position when this view was taken (for ``wait_for_reply``)."""
        return int(self.raw.get("seq", 0))

    @property
    def commands(self) -> list[dict[str, str]]:
        return list(self.raw.get("commands", []))


class SandboxClient(PaymentActions):
    """Async client of the control API. ``user_id=None`` means the first user (Alice);
    ``bot_id=None`` the first bot."""

    def __init__(self, base_url: str, *, bot_id: int | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.bot_id = bot_id
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self._http().request(method, self.base_url + path, **kwargs) as response:
            body = await response.json()
            if response.status >= 400:
                raise SandboxError(response.status, str(body.get("error", body)), body)
            return body

    def _who(self, user_id: int | None) -> dict[str, Any]:
        return {"user_id": user_id, "bot_id": self.bot_id}

    async def info(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/_sandbox/info")
        return result

    async def users(self) -> list[dict[str, Any]]:
        return list((await self.info())["users"])

    async def add_user(self, first_name: str) -> int:
        body = await self._call("POST", "/_sandbox/users", json={"first_name": first_name})
        return int(body["id"])

    async def send(self, text: str, *, user_id: int | None = None) -> int:
        """The user sends ``text`` (a command if it starts with "/"); returns the update_id."""
        body = await self._call(
            "POST", "/_sandbox/messages", json={**self._who(user_id), "text": text}
        )
        return int(body["update_id"])

    async def upload(
        self,
        data: bytes,
        file_name: str,
        *,
        user_id: int | None = None,
        caption: str | None = None,
        mime_type: str | None = None,
        as_photo: bool = False,
    ) -> int:
        """The user sends a file (as a document, or a photo); returns the update_id."""
        payload = {
            **self._who(user_id),
            "file_name": file_name,
            "content_base64": base64.b64encode(data).decode("ascii"),
            "caption": caption,
            "mime_type": mime_type,
            "as_photo": as_photo,
        }
        body = await self._call("POST", "/_sandbox/uploads", json=payload)
        return int(body["update_id"])

    async def press(self, message_id: int, data: str, *, user_id: int | None = None) -> int:
        """The user presses the inline button with ``data`` under message ``message_id``."""
        payload = {**self._who(user_id), "message_id": message_id, "data": data}
        body = await self._call("POST", "/_sandbox/presses", json=payload)
        return int(body["update_id"])

    async def block(self, *, user_id: int | None = None, blocked: bool = True) -> None:
        """The user blocks the bot (``blocked=False``: unblocks it): the bot's calls to the
        chat answer 403 "Forbidden: bot was blocked by the user"."""
        await self._call(
            "POST", "/_sandbox/blocks", json={**self._who(user_id), "blocked": blocked}
        )

    async def chat(self, *, user_id: int | None = None) -> ChatView:
        """The chat of ``user_id`` (default: the first user) with the bot, as it is now."""
        uid = user_id if user_id is not None else "default"
        query = {"bot_id": str(self.bot_id)} if self.bot_id is not None else {}
        return ChatView.of(await self._call("GET", f"/_sandbox/chats/{uid}", params=query))

    async def wait(
        self,
        *,
        bot_messages: int = 0,
        after_message_id: int = 0,
        changed_since: int | None = None,
        text_contains: str | None = None,
        idle_ms: int = 0,
        within: float = 10.0,
        user_id: int | None = None,
    ) -> ChatView:
        """Long-poll until every given condition holds (see ``/_sandbox/wait``); raises
        ``SandboxTimeout`` (with the chat as it was) after ``within`` seconds."""
        payload = {
            **self._who(user_id),
            "bot_messages": bot_messages,
            "after_message_id": after_message_id,
            "changed_since": changed_since,
            "text_contains": text_contains,
            "idle_ms": idle_ms,
            "timeout": within,
        }
        try:
            return ChatView.of(await self._call("POST", "/_sandbox/wait", json=payload))
        except SandboxError as exc:
            if exc.status == 408 and exc.view is not None:
                reason = str(exc.view.get("error", "timed out"))
                raise SandboxTimeout(reason, ChatView.of(exc.view)) from exc
            raise

    async def wait_for_bot_messages(
        self,
        count: int,
        *,
        after_message_id: int = 0,
        within: float = 10.0,
        user_id: int | None = None,
    ) -> ChatView:
        """Until the bot has sent ``count`` messages after ``after_message_id`` in the chat."""
        return await self.wait(
            bot_messages=count, after_message_id=after_message_id, within=within, user_id=user_id
        )

    async def wait_idle(
        self, idle_ms: int = 300, *, within: float = 10.0, user_id: int | None = None
    ) -> ChatView:
        """Until the bot has done nothing in the chat for ``idle_ms``."""
        return await self.wait(idle_ms=idle_ms, within=within, user_id=user_id)

    async def wait_for_text(
        self, needle: str, *, idle_ms: int = 0, within: float = 10.0, user_id: int | None = None
    ) -> ChatView:
        """Until a bot message's current text (or caption) contains ``needle``."""
        return await self.wait(
            text_contains=needle, idle_ms=idle_ms, within=within, user_id=user_id
        )

    async def wait_for_reply(
        self,
        since: ChatView,
        *,
        idle_ms: int = 250,
        within: float = 10.0,
        user_id: int | None = None,
    ) -> ChatView:
        """Until the bot has answered (sent, edited or deleted) after the view ``since`` was
        taken, and then stayed quiet for ``idle_ms``."""
        return await self.wait(
            changed_since=since.seq, idle_ms=idle_ms, within=within, user_id=user_id
        )

    async def press_label(self, label: str, *, user_id: int | None = None) -> int:
        """Press the button labelled ``label`` on the newest bot message that shows one."""
        chat = await self.chat(user_id=user_id)
        for message in reversed(chat.bot_messages):
            for row in message.buttons:
                for button in row:
                    if button.get("text") == label and "callback_data" in button:
                        return await self.press(
                            message.message_id, button["callback_data"], user_id=user_id
                        )
        offered = [b.get("text") for m in chat.bot_messages for r in m.buttons for b in r]
        raise SandboxError(404, f"no button {label!r} in the chat; buttons: {offered}")

    async def download(self, url: str) -> bytes:
        """Bytes of a photo/document URL from a message view (relative or absolute)."""
        full = url if url.startswith("http") else self.base_url + url
        async with self._http().get(full) as response:
            if response.status != 200:
                raise SandboxError(response.status, f"download of {url} failed")
            return await response.read()

    async def reset(self) -> None:
        await self._call("POST", "/_sandbox/reset")

    async def configure(self, **settings: Any) -> dict[str, Any]:
        """Change settings such as ``rate_limit_per_chat`` or ``max_download_bytes``."""
        result: dict[str, Any] = await self._call("POST", "/_sandbox/config", json=settings)
        return result
