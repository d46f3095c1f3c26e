"""What the channel must remember about messages it sent, across restarts.

- menus: for each message carrying buttons, the CHOICES reply it shows (options, token, page,
  ticks), so a press ``o:3`` resolves to the option id and ``p:2`` re-renders page 2.
- progress: which message shows progress bar ``progress_id`` in a chat, and when it was last
  edited (edits are throttled to ≤ 1/s).
- sending: the chats with a menu on its way (sent, its row not yet written). Its message id is
  known only once ``sendMessage`` answers, and the user sees the buttons before that: a quick
  press can reach another webhook replica (or this one's ingress) first, and would be refused
  as "out of date". :meth:`SentMessages.wait_menu` waits for such a menu (issue 14's training
  drill found it: 4 of 10 simulated users met it on 3 replicas).

A small SQLite file next to the session store; rows older than a week are swept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from statbot.engine.replies import Reply

RETENTION_S = 7 * 24 * 3600
# How long a press waits for a menu on its way; a mark older than this is a sender that died.
# A send can take seconds when the machine is busy (the training drill's 8 fits on 2 cores met
# 5 s once): a live sender's menu must not be called out of date for being slow.
MENU_WAIT_S = 15.0


@dataclass(frozen=True, slots=True)
class Menu:
    chat_id: int
    message_id: int
    reply: Reply
    page: int
    selected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProgressMessage:
    message_id: int
    text: str
    edited_at: float


class SentMessages:
    """The two tables above, in ``telegram.sqlite3``: the menus shown (in the channel a "menu"
    is a message with buttons) and the progress messages. Named for what it holds; it was
    ``MenuTable`` (issue 10), which held more than menus."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS menus (
                chat_id INTEGER, message_id INTEGER, token TEXT, reply TEXT, page INTEGER,
                selected TEXT, at REAL, PRIMARY KEY (chat_id, message_id));
            CREATE INDEX IF NOT EXISTS menus_token ON menus (chat_id, token);
            CREATE TABLE IF NOT EXISTS progress (
                chat_id INTEGER, progress_id TEXT, message_id INTEGER, text TEXT, at REAL,
                PRIMARY KEY (chat_id, progress_id));
            CREATE TABLE IF NOT EXISTS sending (chat_id INTEGER PRIMARY KEY, at REAL);
            """
        )

    def close(self) -> None:
        self._db.close()

    def put_menu(self, chat_id: int, message_id: int, reply: Reply, page: int = 0) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO menus VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                message_id,
                reply.token,
                json.dumps(reply.to_dict()),
                page,
                json.dumps(list(reply.selected)),
                time.time(),
            ),
        )

    @contextlib.contextmanager
    def sending(self, chat_id: int) -> Iterator[None]:
        """Mark a menu of ``chat_id`` as on its way while the block sends it and writes its row
        (:meth:`put_menu`); the mark goes when the block ends, however it ends."""
        at = time.time()
        self._db.execute("INSERT OR REPLACE INTO sending VALUES (?, ?)", (chat_id, at))
        try:
            yield
        finally:
            self._db.execute("DELETE FROM sending WHERE chat_id = ? AND at = ?", (chat_id, at))

    def _on_its_way(self, chat_id: int) -> bool:
        row = self._db.execute("SELECT at FROM sending WHERE chat_id = ?", (chat_id,)).fetchone()
        return row is not None and float(row[0]) > time.time() - MENU_WAIT_S

    async def wait_menu(
        self, chat_id: int, message_id: int, within: float = MENU_WAIT_S
    ) -> Menu | None:
        """:meth:`get_menu`; while a menu of the chat is on its way (any process's
        :meth:`sending`), up to ``within`` s for its row. A press on a message nobody is
        sending (an old one, a forgotten chat's) is answered at once."""
        deadline = time.monotonic() + within
        menu = self.get_menu(chat_id, message_id)
        while menu is None and self._on_its_way(chat_id) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            menu = self.get_menu(chat_id, message_id)
        return menu

    def set_page(self, chat_id: int, message_id: int, page: int) -> None:
        self._db.execute(
            "UPDATE menus SET page = ? WHERE chat_id = ? AND message_id = ?",
            (page, chat_id, message_id),
        )

    def _menu(self, row: tuple[int, int, str, int, str] | None) -> Menu | None:
        if row is None:
            return None
        chat_id, message_id, reply, page, selected = row
        return Menu(
            chat_id,
            message_id,
            Reply.from_dict(json.loads(reply)),
            int(page),
            tuple(json.loads(selected)),
        )

    def get_menu(self, chat_id: int, message_id: int) -> Menu | None:
        row = self._db.execute(
            "SELECT chat_id, message_id, reply, page, selected FROM menus "
            "WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        ).fetchone()
        return self._menu(row)

    def menu_with_token(self, chat_id: int, token: str) -> Menu | None:
        """The latest message showing the menu with this token (for editing it in place)."""
        if not token:
            return None
        row = self._db.execute(
            "SELECT chat_id, message_id, reply, page, selected FROM menus "
            "WHERE chat_id = ? AND token = ? ORDER BY message_id DESC LIMIT 1",
            (chat_id, token),
        ).fetchone()
        return self._menu(row)

    def get_progress(self, chat_id: int, progress_id: str) -> ProgressMessage | None:
        row = self._db.execute(
            "SELECT message_id, text, at FROM progress WHERE chat_id = ? AND progress_id = ?",
            (chat_id, progress_id),
        ).fetchone()
        return ProgressMessage(int(row[0]), str(row[1]), float(row[2])) if row else None

    def put_progress(self, chat_id: int, progress_id: str, message_id: int, text: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO progress VALUES (?, ?, ?, ?, ?)",
            (chat_id, progress_id, message_id, text, time.time()),
        )

    def forget_chat(self, chat_id: int) -> None:
        self._db.execute("DELETE FROM menus WHERE chat_id = ?", (chat_id,))
        self._db.execute("DELETE FROM progress WHERE chat_id = ?", (chat_id,))
        self._db.execute("DELETE FROM sending WHERE chat_id = ?", (chat_id,))

    def sweep(self, now: float | None = None) -> None:
        cutoff = (now or time.time()) - RETENTION_S
        self._db.execute("DELETE FROM menus WHERE at < ?", (cutoff,))
        self._db.execute("DELETE FROM progress WHERE at < ?", (cutoff,))
        self._db.execute("DELETE FROM sending WHERE at < ?", (cutoff,))
