"""The sandbox's state kept in a folder across restarts (issue 9, 2a).

    <state_dir>/state.json   the snapshot (``snapshot.py``), replaced atomically
    <state_dir>/files/       the bytes of every uploaded or sent file
    <state_dir>/port         the port the page was served on last time

Saving is debounced: a change is noticed (the state's ``changed`` signal, or a cheap fingerprint
checked twice a second for changes that fire no signal, such as a confirmed ``getUpdates`` offset
or a new command menu), then the snapshot is taken ``SAVE_DELAY`` later in the event loop and
encoded and written in a thread, so a burst of thousands of messages costs one write. A clean
shutdown and ``/_sandbox/reset`` save at once. A snapshot that cannot be read is moved aside to
``state.json.damaged-<timestamp>`` with a WARNING, and the sandbox starts fresh.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from statbot.sandbox.restore import SnapshotError, restore
from statbot.sandbox.snapshot import Dormant, Encoder, KeptFiles
from statbot.sandbox.state import SandboxConfig, SandboxState

log = logging.getLogger(__name__)

SNAPSHOT_NAME = "state.json"
PORT_NAME = "port"
SAVE_DELAY = 0.5  # seconds between noticing a change and writing it: the loss window on a crash


def remembered_port(state_dir: Path) -> int | None:
    """The port the sandbox using ``state_dir`` served on last time, if it wrote one."""
    try:
        port = int((state_dir / PORT_NAME).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return port if 0 < port < 65536 else None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Persister:
    """Loads a sandbox's state from ``state_dir`` and keeps the snapshot there up to date."""

    def __init__(self, state: SandboxState, state_dir: Path) -> None:
        self.state = state
        self.state_dir = state_dir
        self.path = state_dir / SNAPSHOT_NAME
        self._dormant = Dormant()
        self._encoder = Encoder()
        self._saved: Any = None  # the fingerprint of what the snapshot on disk holds
        self._generation = 0
        self._written = 0
        self._write_lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        state.on_reset.append(self._after_reset)

    @classmethod
    def open(
        cls, state_dir: Path, tokens: Iterable[str], config: SandboxConfig | None = None
    ) -> Persister:
        """A state serving ``tokens``, continued from the snapshot in ``state_dir`` if any."""
        files_dir = state_dir / "files"
        files_dir.mkdir(parents=True, exist_ok=True)
        state = SandboxState(files_dir, config, files=KeptFiles(files_dir))
        for token in tokens:
            state.add_bot(token)
        persister = cls(state, state_dir)
        persister.load()
        return persister

    # -- loading ---------------------------------------------------------------------------

    def load(self) -> bool:
        """Continue from the snapshot; False when there was none or it was set aside."""
        files = self.state.files
        files.root.mkdir(parents=True, exist_ok=True)
        if isinstance(files, KeptFiles):
            files.restore([], 0)  # files left without a snapshot keep their numbers
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as exc:
            log.warning("cannot read the sandbox snapshot %s (%s); starting fresh", self.path, exc)
            return False
        try:
            self._dormant = restore(self.state, json.loads(raw))
        except (SnapshotError, ValueError) as exc:  # json's errors are ValueErrors too
            self._set_aside(exc)
            return False
        entries = files.entries() if isinstance(files, KeptFiles) else []
        missing = [f for f in entries if not f.disk_path.exists()]
        if missing:
            log.warning(
                "%d file(s) of the sandbox snapshot are missing from %s; they cannot be downloaded",
                len(missing),
                files.root,
            )
        self._saved = self._fingerprint()
        chats = len(self.state.chats)
        log.info("sandbox state restored from %s (%d chats)", self.path, chats)
        return True

    def _set_aside(self, exc: Exception) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{n}")
        try:
            os.replace(self.path, target)
        except OSError as move_error:
            log.warning(
                "the sandbox snapshot %s is damaged (%s) and cannot be moved aside (%s); "
                "starting fresh",
                self.path,
                exc,
                move_error,
            )
            return
        log.warning(
            "the sandbox snapshot %s is damaged (%s); moved it to %s and starting fresh",
            self.path,
            exc,
            target.name,
        )

    # -- saving ----------------------------------------------------------------------------

    def remember_port(self, port: int) -> None:
        try:
            write_atomic(self.state_dir / PORT_NAME, f"{port}\n".encode("ascii"))
        except OSError as exc:
            log.warning("cannot remember the sandbox port in %s: %s", self.state_dir, exc)

    def start(self) -> None:
        """Begin saving changes in the background (call inside the running event loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name="sandbox-persist")

    async def close(self) -> None:
        """Stop following changes and write the final snapshot (synchronously: it must happen
        even while the surrounding task is being cancelled, as on Ctrl-C)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        # Unchanged since loaded or saved: leave the file alone (a second process on the same
        # folder that stops at once, say on the bot's instance lock, must not write it back).
        if self._fingerprint() != self._saved:
            self.save_now()
        if task is not None:
            await asyncio.wait([task], timeout=1.0)

    def save_now(self) -> None:
        """Write the snapshot now, in the calling thread."""
        fingerprint, pieces = self._fingerprint(), self._encoder.encode(self.state, self._dormant)
        self._generation += 1
        self._store(self._generation, "".join(pieces).encode("utf-8"), fingerprint)

    async def _follow(self) -> None:
        while True:
            await self.state.changed.wait(SAVE_DELAY)
            if self._fingerprint() == self._saved:
                continue
            await asyncio.sleep(SAVE_DELAY)  # gather the rest of a burst into this write
            try:
                await self._save_in_thread()
            except Exception:  # a bug here must not stop the sandbox; try again later
                log.exception("saving the sandbox state to %s failed", self.path)
                await asyncio.sleep(SAVE_DELAY)

    async def _save_in_thread(self) -> None:
        # Encoded in the loop (a consistent view; cheap, see ``Encoder``), written in a thread.
        fingerprint, pieces = self._fingerprint(), self._encoder.encode(self.state, self._dormant)
        self._generation += 1
        generation = self._generation
        await asyncio.to_thread(
            lambda: self._store(generation, "".join(pieces).encode("utf-8"), fingerprint)
        )

    def _store(self, generation: int, data: bytes, fingerprint: Any) -> None:
        with self._write_lock:
            if generation <= self._written:
                return  # a newer snapshot is already on disk (a reset saved while this waited)
            try:
                write_atomic(self.path, data)
            except OSError as exc:
                if not self._failing:
                    log.warning("cannot save the sandbox state to %s: %s", self.path, exc)
                self._failing = True
                self._saved = None  # try again at the next change
                return
            if self._failing:
                log.warning("saving the sandbox state to %s works again", self.path)
            self._failing = False
            self._written = generation
            self._saved = fingerprint

    def _after_reset(self) -> None:
        self._dormant.reset()
        self.save_now()  # a reset must not come back after a crash: no debounce

    def _fingerprint(self) -> Any:
        """Cheap to compute; differs whenever something the snapshot holds has changed.

        Mutations happen all over the emulator (messages, updates, webhooks, commands), most of
        them publish an event (``event_seq``); the rest are covered by the per-bot terms.
        """
        state = self.state
        files = state.files
        return (
            state.event_seq,
            len(state.users),
            files.counter if isinstance(files, KeptFiles) else 0,
            [
                (
                    bot.id,
                    bot.next_update_id,
                    len(bot.updates),
                    bot.updates[0]["update_id"] if bot.updates else 0,
                    bot.allowed_updates,
                    None
                    if bot.webhook is None
                    else (bot.webhook.url, bot.webhook.secret_token, bot.webhook.max_connections),
                    dict(bot.commands),  # values are replaced, never changed in place
                    len(bot.callback_queries),
                )
                for bot in state.bots.values()
            ],
        )


def choose_port(configured: int, remembered: int | None) -> int:
    """The configured port if free; else the one served on last time if free; else 0 (any)."""
    if configured:
        if _port_free(configured):
            return configured
        log.warning("port %d is taken; the sandbox uses another port", configured)
    if remembered and _port_free(remembered):
        return remembered
    return 0


def _port_free(port: int) -> bool:
    """Whether the sandbox can listen on ``port``: bound as the server binds it, so that
    connections of the previous run lingering in TIME_WAIT do not count as taken."""
    with socket.socket() as sock:
        if os.name != "nt":  # on Windows SO_REUSEADDR would let us share a port in use
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
