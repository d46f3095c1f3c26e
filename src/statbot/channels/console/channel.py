"""The console channel: a person drives any workflow from a terminal.

It is a durable channel like Telegram: every line becomes an event with the next id of a
counter that continues from what the store has seen of this conversation (applied or still in
the inbox), so a restarted ``statbot chat`` picks up where it stopped; the replies come back
through the engine's outbox, so replies that were not shown before a crash are shown after.

The menu currently open (the last CHOICES reply and the page shown) is kept in a small JSON
file next to the store, so numbers typed after a restart still mean the options shown before.
A menu closes when the replies to a later event contain no menu.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import getpass
import json
import logging
import mimetypes
import shutil
import uuid
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path
from typing import Protocol, TextIO

from statbot.channels.console.parse import (
    Command,
    More,
    Parsed,
    Pick,
    Problem,
    Quit,
    SendFile,
    Text,
    parse_line,
)
from statbot.channels.console.render import ConsoleRenderer, pages
from statbot.engine.events import ConversationKey, Event, EventKind, Upload
from statbot.engine.replies import OutboxItem, Reply, ReplyKind
from statbot.engine.session import Session
from statbot.engine.stores.base import SessionStore

log = logging.getLogger(__name__)

CHANNEL = "console"


class Engine(Protocol):
    async def submit(self, event: Event) -> bool: ...

    async def drain(self) -> None: ...


def console_key(user_id: int) -> ConversationKey:
    return ConversationKey(CHANNEL, 0, user_id)


def _os_user() -> str:
    try:
        return getpass.getuser()[:256]
    except (KeyError, OSError):  # no name for this uid (a container's numeric user)
        return ""


class ConsoleChannel:
    def __init__(
        self,
        *,
        user_id: int,
        data_dir: Path,
        out_dir: Path,
        out: TextIO,
        tty: bool,
        cwd: Path | None = None,
    ) -> None:
        self.key = console_key(user_id)
        self.data_dir = data_dir
        self.cwd = cwd or Path.cwd()
        self.renderer = ConsoleRenderer(out, out_dir, tty=tty)
        self.next_update_id = 1
        self.menu: Reply | None = None
        self.page = 0
        self._menu_event = ""
        self._waiting = False  # the prompt is shown and we wait for a line
        self._state_path = data_dir / "console" / f"menu-{user_id}.json"
        self._load_menu()

    # start -----------------------------------------------------------------------------------
    async def resume(self, store: SessionStore) -> Session | None:
        """Continue the event counter after every id the store knows for this conversation."""
        session = await store.load(self.key)
        high = (session.last_update_id or 0) if session else 0
        after = 0
        while True:
            entries = await store.inbox_pending(limit=1000, after_seq=after)
            for entry in entries:
                if entry.key == str(self.key) and entry.event.update_id is not None:
                    high = max(high, entry.event.update_id)
            if len(entries) < 1000:
                break
            after = entries[-1].seq
        self.next_update_id = max(self.next_update_id, high + 1)
        return session

    def greet(self, session: Session | None) -> None:
        lines = ["statbot console — /help lists what I can do, /quit (or Ctrl-D) leaves."]
        if session is not None and session.workflow:
            lines.append(f"Continuing your {session.workflow} conversation (step {session.state}).")
        self.renderer.lines(lines)
        if session is not None and session.workflow and self.menu is not None:
            self.renderer.show(self.menu, self.page)

    # output ----------------------------------------------------------------------------------
    async def deliver(self, key: str, items: list[OutboxItem]) -> list[int]:
        """The engine's deliverer: show the replies in order; all of them count as delivered."""
        shown: list[int] = []
        if self._waiting:
            self.renderer.unprompt()
        for event_id, group in groupby(items, key=lambda item: item.event_id):
            batch = list(group)
            for item in batch:
                if item.reply.kind in (ReplyKind.IMAGE, ReplyKind.DOCUMENT):
                    await asyncio.to_thread(self.renderer.show, item.reply)
                else:
                    self.renderer.show(item.reply)
                shown.append(item.seq)
            self._track_menu(event_id, [item.reply for item in batch])
        if self._waiting:
            self.renderer.prompt()
        return shown

    def _track_menu(self, event_id: str, replies: Sequence[Reply]) -> None:
        menus = [r for r in replies if r.kind is ReplyKind.CHOICES]
        if menus:
            self.menu, self.page, self._menu_event = menus[-1], 0, event_id
        elif event_id != self._menu_event and any(
            r.kind is not ReplyKind.PROGRESS for r in replies
        ):
            self.menu, self.page, self._menu_event = None, 0, ""
        else:
            return
        self._save_menu()

    def _load_menu(self) -> None:
        try:
            raw = json.loads(self._state_path.read_text(encoding="utf-8"))
            self.menu = Reply.from_dict(raw["reply"]) if raw.get("reply") else None
            self.page = int(raw.get("page", 0))
            self._menu_event = str(raw.get("event_id", ""))
        except FileNotFoundError:
            return
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable console menu file %s: %s", self._state_path, exc)

    def _save_menu(self) -> None:
        if self.menu is None:  # nothing open: no file (and nothing left after /forget)
            self._state_path.unlink(missing_ok=True)
            return
        self._state_path.parent.mkdir(parents=True, exist_ok=True)
        raw = {
            "reply": self.menu.to_dict(),
            "page": self.page,
            "event_id": self._menu_event,
        }
        partial = self._state_path.with_suffix(".part")
        partial.write_text(json.dumps(raw), encoding="utf-8")
        partial.replace(self._state_path)

    # input -----------------------------------------------------------------------------------
    async def handle(self, line: str, engine: Engine) -> bool:
        """Act on one typed line; False when the user wants to leave."""
        parsed = parse_line(line, self.menu, self.cwd)
        if parsed is None:
            return True
        if isinstance(parsed, Quit):
            return False
        if isinstance(parsed, Problem):
            self.renderer.lines([parsed.message])
            return True
        if isinstance(parsed, More):
            assert self.menu is not None
            self.page = (self.page + 1) % pages(self.menu)
            self._save_menu()
            self.renderer.show(self.menu, self.page)
            return True
        event = await self.event_for(parsed)
        await engine.submit(event)
        await engine.drain()
        return True

    async def event_for(self, parsed: Parsed) -> Event:
        # The OS account's name stands for the sender's (the access room keeps it, issue 12).
        return dataclasses.replace(await self._event_for(parsed), name=_os_user())

    async def _event_for(self, parsed: Parsed) -> Event:
        update_id = self.next_update_id
        self.next_update_id += 1
        if isinstance(parsed, Command):
            return Event.from_update(
                self.key, update_id, EventKind.COMMAND, text=parsed.name, args=parsed.args
            )
        if isinstance(parsed, Pick):
            token = self.menu.token if self.menu else ""
            return Event.from_update(
                self.key, update_id, EventKind.CHOICE, choice=parsed.option_id, token=token
            )
        if isinstance(parsed, SendFile):
            upload = await asyncio.to_thread(self._stage, parsed.path)
            return Event.from_update(self.key, update_id, EventKind.UPLOAD, upload=upload)
        assert isinstance(parsed, Text)
        return Event.from_update(self.key, update_id, EventKind.TEXT, text=parsed.text)

    def _stage(self, source: Path) -> Upload:
        """Copy the file into the data dir (``staging/<user>/<id>/``, the layout the workflows'
        services use), so the upload stays valid even if the original is moved or edited."""
        folder = self.data_dir / "staging" / str(self.key.user_id) / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / source.name
        shutil.copyfile(source, target)
        return Upload(
            file_name=source.name,
            size=target.stat().st_size,
            file_id=f"console:{target.parent.name}",
            mime_type=mimetypes.guess_type(source.name)[0],
            path=str(target),
        )

    # the loop --------------------------------------------------------------------------------
    async def run(self, lines: asyncio.Queue[str | None], engine: Engine) -> None:
        """Prompt, read, submit, wait for the replies; until /quit or end of input."""
        while True:
            self.renderer.prompt()
            self._waiting = True
            try:
                line = await lines.get()
            finally:
                self._waiting = False
            self.renderer.typed()
            if line is None:  # Ctrl-D: end the prompt's line, as a shell does
                self.renderer.lines([""])
                return
            if not await self.handle(line, engine):
                return


def stdin_lines(stream: TextIO) -> asyncio.Queue[str | None]:
    """Lines of ``stream`` read by a daemon thread (a blocked read never holds up exit);
    None marks the end of input."""
    import threading

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        while True:
            try:
                line = stream.readline()
            except (OSError, ValueError):
                line = ""
            with contextlib.suppress(RuntimeError):  # the loop closed: we are exiting
                loop.call_soon_threadsafe(queue.put_nowait, line or None)
            if not line:
                return

    threading.Thread(target=pump, name="statbot-console-stdin", daemon=True).start()
    return queue
