"""A scripted user for the bot: drive real conversations in tests and documentation.

``ChatDriver`` runs the bot's core as :mod:`statbot.wiring` builds it for ``statbot run`` and
``statbot chat`` (on a :class:`MemoryStore` unless given another store): workflows, services,
engine, jobs, and the deletion of user data. It records every reply the engine
delivers, and can print the conversation as a readable transcript::

    async with ChatDriver(tmp_path, jobs=True) as chat:
        await chat.send("/train")
        await chat.upload(Path("iris.csv"))
        await chat.press("Looks right")
        await chat.wait_for(lambda replies: any("Model trained" in r.text for r in replies))
        print(chat.transcript())

Each call submits ONE event (monotonic update ids, as a channel would) and waits until the
engine is idle, so its return value is exactly the replies that event caused. Job-driven steps
(training) reply later: :meth:`ChatDriver.wait_for` waits for them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from statbot.engine.events import ConversationKey, Event, EventKind, Payment, Upload
from statbot.engine.replies import DONE_OPTION, OutboxItem, Reply, ReplyKind
from statbot.engine.stores.base import SessionStore
from statbot.engine.workflow import WorkflowRegistry

__all__ = ["ChatDriver", "render_reply"]

DEFAULT_KEY = ConversationKey("test", 1, 1)


class ChatDriver:
    """One user in one chat, talking to a real engine.

    ``data_dir``: the bot's data folder (datasets, models, jobs, results). ``registry``: the
    workflows (default: the bot's). ``jobs``: run the real job runner STATBOT_JOBS names wired
    to the engine. ``settings``: keyword overrides for :func:`statbot.config.load_settings`.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        registry: WorkflowRegistry | None = None,
        store: SessionStore | None = None,
        jobs: bool = False,
        key: ConversationKey = DEFAULT_KEY,
        first_update_id: int = 1,
        **settings: Any,
    ) -> None:
        from statbot.config import load_settings
        from statbot.engine.stores.memory import MemoryStore
        from statbot.wiring import build_core

        self.key = key
        # A scripted user types at machine speed: no incoming rate limit unless a test asks
        # for one (tests/access/test_ratelimit.py does).
        settings.setdefault("rate_limit_per_minute", 0)
        self.settings = load_settings(data_dir=data_dir, **settings)
        self.data_dir = self.settings.data_dir
        # The bot's own wiring (statbot.wiring), with this driver as the channel.
        self.core = build_core(
            self.settings,
            deliver=self._deliver,
            store=store if store is not None else MemoryStore(),
            registry=registry,
            jobs=jobs,
            job_options={"progress_interval_s": 0.2}
            | ({"tick_s": 0.2} if self.settings.jobs == "local" else {}),
        )
        self.services = self.core.services
        self.manager = self.core.manager
        self.replies: list[Reply] = []
        # (speaker, line) pairs in order; "user" lines are what the user did.
        self._log: list[tuple[str, Reply | str]] = []
        self._next_update = first_update_id
        self.sender: dict[str, str] = {}  # the sender's name and @username (see as_user)

    @property
    def jobs(self) -> Any:
        """The job runner STATBOT_JOBS names (None without ``jobs=True``)."""
        return self.core.jobs

    # lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.manager.start()
        await self.core.start_jobs()
        await self.core.start_broadcasts()

    async def stop(self) -> None:
        await self.core.stop_broadcasts()
        await self.core.stop_jobs()
        await self.manager.stop()
        self.core.close()

    async def __aenter__(self) -> ChatDriver:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # what the user does --------------------------------------------------------------------------
    async def send(self, text: str) -> list[Reply]:
        """A message; ``/name args`` is a command."""
        self._log.append(("user", text))
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            return await self._submit(EventKind.COMMAND, text=name, args=args.strip())
        return await self._submit(EventKind.TEXT, text=text)

    async def text(self, text: str) -> list[Reply]:
        """A message taken as text whatever it starts with (a server path, ``/srv/a.csv``)."""
        self._log.append(("user", text))
        return await self._submit(EventKind.TEXT, text=text)

    async def upload(
        self, path: Path, file_name: str | None = None, caption: str = "", size: int | None = None
    ) -> list[Reply]:
        """A file sent as a document (the channel has staged it at ``path``), with an optional
        caption (a request such as "explore it"); ``size`` is what Telegram says the file's
        size is (default: the staged file's)."""
        name = path.name if file_name is None else file_name  # "" too: a hostile name
        self._log.append(("user", f"[uploads {name}]" + (f" {caption}" if caption else "")))
        if size is None:
            size = (await asyncio.to_thread(path.stat)).st_size
        upload = Upload(name, size, path=str(path))
        return await self._submit(EventKind.UPLOAD, upload=upload, text=caption)

    async def press(self, label: str) -> list[Reply]:
        """Press the button of the latest menu whose label starts with ``label``
        (case-insensitive); ``Done`` in a multi-select menu presses its Done button."""
        menu = self.menu()
        wanted = label.lower()
        for option in menu.options:
            if option.label.lower().startswith(wanted):
                return await self.press_id(option.id, shown=option.label)
        if menu.multi and wanted == "done":
            return await self.press_id(DONE_OPTION, shown="Done")
        labels = " | ".join(o.label for o in menu.options)
        raise LookupError(f"no button starting with {label!r} in the latest menu: {labels}")

    async def press_id(
        self, option_id: str, *, token: str | None = None, shown: str | None = None
    ) -> list[Reply]:
        """Press the button ``option_id``; ``token`` defaults to the latest menu's (pass an old
        one to press a stale button)."""
        if token is None:
            token = self.menu().token
        self._log.append(("user", f"[presses {shown or option_id}]"))
        return await self._submit(EventKind.CHOICE, choice=option_id, token=token)

    async def pay_event(self, kind: EventKind, payment: Payment, text: str = "") -> list[Reply]:
        """A payment update (PRE_CHECKOUT, PAYMENT, REFUND) or a refund call's REFUND_RESULT,
        as the Telegram channel would journal it."""
        self._log.append(("user", _PAYMENT_LINES[kind].format(payment.total_amount)))
        return await self._submit(kind, payment=payment, text=text)

    async def wait_for(
        self, done: Callable[[list[Reply]], bool], seconds: float = 60.0
    ) -> list[Reply]:
        """Wait (for job-driven replies) until ``done(all replies so far)`` holds."""
        timeout = seconds
        deadline = time.monotonic() + timeout
        while True:
            await self.manager.drain()
            if done(self.replies):
                return self.replies
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met in {timeout:g} s; last: {self.last_text()}")
            await asyncio.sleep(0.05)

    # what the bot did ----------------------------------------------------------------------------
    def menu(self) -> Reply:
        """The latest buttons the bot showed."""
        for reply in reversed(self.replies):
            if reply.kind is ReplyKind.CHOICES:
                return reply
        raise LookupError("the bot has not shown any buttons yet")

    def last_text(self) -> str:
        return self.replies[-1].text if self.replies else ""

    async def state(self) -> tuple[str | None, str | None]:
        """(workflow, state) of the conversation as stored."""
        session = await self.manager.store.load(self.key)
        return (None, None) if session is None else (session.workflow, session.state)

    def mark(self) -> int:
        """A position in the conversation, for :meth:`transcript` ``since``."""
        return len(self._log)

    def transcript(self, since: int = 0) -> str:
        """The conversation (from ``since``, a :meth:`mark`) as text: ``> `` user lines, then
        the bot's replies; a progress bar updated in place shows as its latest value."""
        lines: list[str] = []
        progress_at: dict[str, int] = {}
        for speaker, item in self._log[since:]:
            if speaker == "user":
                lines.append(f"> {item}")
                progress_at.clear()
                continue
            assert isinstance(item, Reply)
            line = render_reply(item)
            if item.kind is ReplyKind.PROGRESS and item.progress_id in progress_at:
                lines[progress_at[item.progress_id]] = line
                continue
            if item.kind is ReplyKind.PROGRESS and item.progress_id:
                progress_at[item.progress_id] = len(lines)
            lines.append(line)
        return "\n".join(lines).replace(str(self.data_dir), "$STATBOT_DATA_DIR")

    def as_user(self, user_id: int, name: str = "", username: str = "") -> None:
        """Speak from now on as another user, in their private chat (chat id = user id), on
        the same engine: for tests of users and roles (issue 12)."""
        self.key = ConversationKey(self.key.channel, user_id, user_id)
        found = {"name": name, "username": username}
        self.sender = {k: v for k, v in found.items() if v}

    # internals -----------------------------------------------------------------------------------
    async def _submit(self, kind: EventKind, **fields: Any) -> list[Reply]:
        update_id = self._next_update
        self._next_update += 1
        before = len(self.replies)
        fields = {**self.sender, **fields}
        await self.manager.submit(Event.from_update(self.key, update_id, kind, **fields))
        await self.manager.drain()
        return self.replies[before:]

    async def _deliver(self, key: str, items: list[OutboxItem]) -> list[int]:
        for item in items:
            self.replies.append(item.reply)
            self._log.append(("bot", item.reply))
        return [item.seq for item in items]


_PAYMENT_LINES = {
    EventKind.PRE_CHECKOUT: "[presses Pay: {} ⭐]",
    EventKind.PAYMENT: "[Telegram: {} ⭐ paid]",
    EventKind.REFUND: "[Telegram: {} ⭐ refunded]",
    EventKind.REFUND_RESULT: "[Telegram answers the refund]",
}


def render_reply(reply: Reply) -> str:
    """One reply as transcript text."""
    if reply.kind is ReplyKind.IMAGE:
        return f"[image: {reply.text or reply.file_name}]"
    if reply.kind is ReplyKind.DOCUMENT:
        caption = f" — {reply.text}" if reply.text else ""
        return f"[document: {reply.file_name}{caption}]"
    if reply.kind is ReplyKind.PROGRESS:
        return f"[progress {round((reply.fraction or 0.0) * 100)}%: {reply.text}]"
    if reply.kind is ReplyKind.INVOICE:
        return f"[invoice: {reply.meta.get('title')} — {reply.meta.get('amount')} stars]"
    if reply.kind is ReplyKind.CHECKOUT:
        ok = reply.meta.get("ok")
        return "[checkout: ok]" if ok else f"[checkout refused: {reply.meta.get('error')}]"
    if reply.kind is ReplyKind.REFUND:
        return f"[refund: {reply.meta.get('charge_id')}]"
    if reply.kind is ReplyKind.CHOICES:
        labels = [
            (f"[x] {o.label}" if o.id in reply.selected else f"[ ] {o.label}")
            if reply.multi
            else o.label
            for o in reply.options
        ]
        if reply.multi:
            labels.append("Done")
        return f"{reply.text}\n[buttons: {' | '.join(labels)}]"
    return reply.text
