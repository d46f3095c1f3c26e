"""The emulator's world: bots (tokens), simulated users, private chats, messages, update queues.

Everything lives in one event loop, so no locks: waiters block on a ``Signal`` that is replaced
each time something changes (a cheap broadcast).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statbot.sandbox.files import FileStore, StoredFile

DEFAULT_TOKEN = "123456:SANDBOX"
DEFAULT_USERS = ("Alice", "Bob", "Carol", "Dave")
FIRST_USER_ID = 100001


@dataclass
class SandboxConfig:
    """Knobs tests turn; defaults match the cloud Bot API closely enough to never get in the way."""

    rate_limit_per_chat: float = 30.0  # bot messages per second per chat before a 429
    max_download_bytes: int = 20 * 1024 * 1024  # getFile refuses bigger files, like the cloud API
    max_upload_bytes: int = 50 * 1024 * 1024  # bots may send files up to 50 MB
    webhook_retry_seconds: float = 0.5
    # Crash drills: while set, the bot's send calls wait, unrecorded; one whose client has gone
    # when it is cleared (the bot was killed) is dropped, as a request lost in transit.
    hold_sends: bool = False
    pre_checkout_timeout: float = 10.0  # seconds the bot has to answer a pre_checkout_query


class Signal:
    """A broadcast: ``wait()`` returns after the next ``fire()`` (or the timeout)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    def wait(self, seconds: float) -> Awaitable[bool]:
        # The event is taken now, not when the awaitable first runs: a waiter wrapped in a task
        # (the webhook delivery loop, issue 14) must not miss a fire() before the task starts.
        return self._wait(self._event, seconds)

    @staticmethod
    async def _wait(event: asyncio.Event, seconds: float) -> bool:
        try:
            await asyncio.wait_for(event.wait(), timeout=max(seconds, 0))
        except TimeoutError:
            return False
        return True


@dataclass(frozen=True)
class User:
    id: int
    first_name: str
    username: str

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "username": self.username,
            "language_code": "en",
        }


@dataclass
class Message:
    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    photo: StoredFile | None = None
    document: StoredFile | None = None
    reply_markup: dict[str, Any] | None = None
    reply_keyboard: dict[str, Any] | None = None  # ReplyKeyboardMarkup/Remove, never echoed back
    reply_to: int | None = None
    media_group_id: str | None = None
    edit_date: int | None = None
    edits: int = 0
    sent_at: float = field(default_factory=time.time)  # when the emulator took it, precisely
    # Telegram Stars (payments.py): a bot's invoice (the Bot API ``Invoice``), its payload
    # (never shown) and where paying it stands; a user's payment or refund service message.
    invoice: dict[str, Any] | None = None
    invoice_payload: str | None = None
    payment_status: str | None = None  # pending, paid, declined, expired, refunded
    payment_error: str | None = None
    successful_payment: dict[str, Any] | None = None
    refunded_payment: dict[str, Any] | None = None


@dataclass
class Chat:
    bot_id: int
    user: User
    chat_instance: str
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1
    actions: list[dict[str, Any]] = field(default_factory=list)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    sends: collections.deque[float] = field(default_factory=collections.deque)
    started: bool = False
    # The user blocked the bot: its calls to the chat answer 403 until the user writes again.
    blocked: bool = False
    last_bot_activity: float = 0.0
    last_bot_seq: int = 0  # the feed's seq of the bot's latest message, edit or deletion

    @property
    def id(self) -> int:
        return self.user.id  # a private chat's id is the user's id, as in Telegram

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "first_name": self.user.first_name,
            "username": self.user.username,
            "type": "private",
        }

    def new_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    pending_since: float | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class Bot:
    token: str
    id: int
    first_name: str
    username: str
    updates: collections.deque[dict[str, Any]] = field(default_factory=collections.deque)
    next_update_id: int = 1
    allowed_updates: list[str] | None = None
    webhook: Webhook | None = None
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    callback_queries: dict[str, tuple[int, bool]] = field(default_factory=dict)
    poll_generation: int = 0
    new_updates: Signal = field(default_factory=Signal)
    # Stars payments: charge id -> the payment (kept: refunds need it); open checkouts by query
    # id (not kept across a restart: like Telegram's 10 s, they would have expired anyway).
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The last updates pushed, so the control API can deliver one again (fault tests).
    sent: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=1000)
    )

    def as_user(self) -> dict[str, Any]:
        """The bot as the ``from`` of its messages."""
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def to_api(self) -> dict[str, Any]:
        """``getMe``."""
        return {
            **self.as_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def push_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self.next_update_id
        self.next_update_id += 1
        update = {"update_id": update_id, kind: payload}
        self.updates.append(update)
        self.sent.append(update)
        self.new_updates.fire()
        return update_id


def update_kind(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


class SandboxState:
    """All bots, users and chats of one emulator process."""

    def __init__(
        self,
        files_dir: Path,
        config: SandboxConfig | None = None,
        files: FileStore | None = None,
    ) -> None:
        self.config = config or SandboxConfig()
        self.files = files if files is not None else FileStore(files_dir)
        self.bots: dict[str, Bot] = {}
        self.users: dict[int, User] = {}
        self.chats: dict[tuple[int, int], Chat] = {}
        self.events: collections.deque[dict[str, Any]] = collections.deque(maxlen=5000)
        self.event_seq = 0
        self.held_sends = 0  # send calls waiting because of ``config.hold_sends``
        self.changed = Signal()
        # Called at the end of ``reset()``; the persister uses it to clear the snapshot at once.
        self.on_reset: list[Callable[[], None]] = []
        for name in DEFAULT_USERS:
            self.add_user(name)

    # -- bots and users --------------------------------------------------------------------

    def add_bot(self, token: str, first_name: str | None = None) -> Bot:
        """Register a bot token ("<digits>:<secret>", as Telegram's); its id is the digits."""
        if token in self.bots:
            return self.bots[token]
        head, _sep, secret = token.partition(":")
        if not head.isdigit() or not secret or "/" in secret:
            raise ValueError("a bot token looks like 123456:SECRET")
        bot_id = int(head)
        default_name = "Statbot Sandbox" if not self.bots else f"Sandbox Bot {bot_id}"
        username = "statbot_sandbox_bot" if not self.bots else f"sandbox_{bot_id}_bot"
        bot = Bot(token=token, id=bot_id, first_name=first_name or default_name, username=username)
        self.bots[token] = bot
        return bot

    def bot_by_id(self, bot_id: int | None) -> Bot | None:
        if bot_id is None:
            return next(iter(self.bots.values()), None)
        return next((b for b in self.bots.values() if b.id == bot_id), None)

    def add_user(self, first_name: str) -> User:
        user_id = FIRST_USER_ID + len(self.users)
        user = User(id=user_id, first_name=first_name, username=first_name.lower())
        self.users[user_id] = user
        return user

    def chat(self, bot: Bot, user: User) -> Chat:
        key = (bot.id, user.id)
        if key not in self.chats:
            self.chats[key] = Chat(bot_id=bot.id, user=user, chat_instance=f"{bot.id}{user.id}")
        return self.chats[key]

    def find_chat(self, bot: Bot, chat_id: int) -> Chat | None:
        return self.chats.get((bot.id, chat_id))

    # -- the event feed the page and the wait helpers follow --------------------------------

    def publish(self, kind: str, chat: Chat, **data: Any) -> None:
        self.event_seq += 1
        if not kind.startswith("user_"):
            chat.last_bot_activity = time.monotonic()
        if kind in ("message", "edit", "delete"):
            chat.last_bot_seq = self.event_seq
        self.events.append(
            {"seq": self.event_seq, "type": kind, "bot_id": chat.bot_id, "chat_id": chat.id, **data}
        )
        self.changed.fire()

    def reset(self) -> None:
        """Forget chats, messages, updates and files; keep bots, users, webhooks, commands."""
        self.chats.clear()
        self.files.clear()
        for bot in self.bots.values():
            bot.updates.clear()
            bot.callback_queries.clear()
            bot.charges.clear()
            bot.checkouts.clear()
            bot.sent.clear()
        self.event_seq += 1
        self.events.clear()
        self.events.append({"seq": self.event_seq, "type": "reset"})
        for hook in self.on_reset:
            hook()
        self.changed.fire()
