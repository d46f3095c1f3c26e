"""The SQLite session store's one connection: lifecycle, reads, and group-committed writes.

Inline or offloaded (see stores/sqlite.py's docstring for the measurements behind the choice):
with ``offload`` every call runs on one dedicated worker thread that owns the connection,
otherwise directly on the event loop. Either way, writes are **group-committed**: the writes
queued while the loop was busy run in ONE ``BEGIN IMMEDIATE`` transaction, each inside its own
SAVEPOINT, so each is still atomic on its own (a stale commit rolls back to its savepoint and
writes nothing) while 200 concurrent conversations pay for one WAL append (and, with FULL, one
fsync) instead of 200. No caller is answered before the COMMIT.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from statbot.engine.stores._sqlite_schema import migrate
from statbot.engine.stores._sqlite_wal import AUTOCHECKPOINT_PAGES, WAL_SIZE_LIMIT, Checkpointer
from statbot.errors import SessionError

log = logging.getLogger("statbot.engine.stores.sqlite")
T = TypeVar("T")
Op = Callable[[sqlite3.Connection], T]  # one read or write, given the connection
_Outcome = tuple[bool, Any]  # (succeeded, result or exception)
UNAVAILABLE = "Your conversation could not be saved right now. Please try again in a moment."


class StoreFile:
    """Owns the connection (and, offloaded, the worker thread) of one store file."""

    def __init__(self, path: Path, synchronous: str, offload: bool) -> None:
        self.path = path
        self.synchronous = synchronous
        self.offload = offload
        self.conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._checkpointer: Checkpointer | None = None
        self._queue: list[tuple[Op[Any], asyncio.Future[Any]]] = []
        self._flushing = False
        self._flush_task: asyncio.Task[None] | None = None

    # lifecycle ------------------------------------------------------------------------------
    async def open(self) -> None:
        if self.conn is not None:
            return
        if self.offload:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="statbot-sqlite")
        try:
            await self.run(self._open_sync)
        except BaseException:
            self._shutdown_executor()
            raise
        self._checkpointer = Checkpointer(self.path)
        self._checkpointer.start()

    def _open_sync(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA busy_timeout=10000")
            # The background checkpointer keeps the WAL small; this only bounds it if that
            # thread ever falls behind (a checkpoint inside a commit is a latency spike).
            conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
            # When the WAL restarts after a complete checkpoint, give back the disk it took.
            conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        self.conn = conn
        log.info(
            "sqlite store %s open (synchronous=%s, offload=%s)",
            self.path,
            self.synchronous,
            self.offload,
        )

    async def close(self) -> None:
        if self.conn is not None:
            await self.write(lambda conn: None)  # queued after every pending write: drains them
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            await asyncio.get_running_loop().run_in_executor(None, checkpointer.stop)
        try:
            if self.conn is not None:
                await self.run(self._close_sync)
        finally:
            self._shutdown_executor()
            self.fail_pending()

    def _close_sync(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()

    def _shutdown_executor(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            if self._executor is None:
                return fn(*args)
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        except sqlite3.Error as exc:
            message = f"sqlite store {self.path}: {exc}"
            raise SessionError(message, user_message=UNAVAILABLE) from exc

    def db(self) -> sqlite3.Connection:
        if self.conn is None:
            raise SessionError("sqlite store is not open", user_message=UNAVAILABLE)
        return self.conn

    async def read(self, fn: Op[T]) -> T:
        """Run a read. If writes are queued, it joins their batch behind them, so that no read
        overtakes a write issued before it (e.g. one whose caller was cancelled: it still
        lands, and a restart's outbox scan must see it)."""
        if self._queue:
            return await self.write(fn)
        return await self.run(fn, self.db())

    # group commit (module docstring) --------------------------------------------------------
    async def write(self, fn: Op[T]) -> T:
        self.db()  # refuse when closed
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append((fn, future))
        if not self._flushing:
            self._flushing = True
            loop.call_soon(self._start_flush)
        return await future

    def _start_flush(self) -> None:
        if self._executor is None:
            try:
                while self._queue:
                    batch, self._queue = self._queue, []
                    self._deliver(batch, self._apply(batch))
            finally:
                self._flushing = False
        else:
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_offloaded())

    async def _flush_offloaded(self) -> None:
        try:
            while self._queue and self._executor is not None:
                batch, self._queue = self._queue, []
                loop = asyncio.get_running_loop()
                try:
                    outcomes = await loop.run_in_executor(self._executor, self._apply, batch)
                except BaseException as exc:  # the worker is gone: nobody may wait forever
                    self._deliver(batch, [(False, exc)] * len(batch))
                    raise
                self._deliver(batch, outcomes)
        finally:
            self._flushing = False
            if self._executor is None:
                self.fail_pending()

    def fail_pending(self) -> None:
        """Answer writes still queued after the store closed (they were not written)."""
        batch, self._queue = self._queue, []
        closed = SessionError("sqlite store is closed", user_message=UNAVAILABLE)
        self._deliver(batch, [(False, closed)] * len(batch))

    def _apply(self, batch: list[tuple[Op[Any], asyncio.Future[Any]]]) -> list[_Outcome]:
        """Run a batch of writes in one transaction; an outcome per write, none raised."""
        conn = self.conn
        if conn is None:
            return [(False, SessionError("sqlite store is not open"))] * len(batch)
        outcomes: list[_Outcome] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            if len(batch) == 1:  # no savepoint needed: the transaction is the write
                try:
                    outcomes.append((True, batch[0][0](conn)))
                except Exception as exc:
                    if conn.in_transaction:  # an I/O error may have rolled it back already
                        conn.execute("ROLLBACK")
                    return [(False, exc)]
            else:
                for fn, _future in batch:
                    conn.execute("SAVEPOINT op")
                    try:
                        outcomes.append((True, fn(conn)))
                    except Exception as exc:
                        conn.execute("ROLLBACK TO op")
                        outcomes.append((False, exc))
                    conn.execute("RELEASE op")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:  # the transaction itself failed: nothing was written
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [(False, exc)] * len(batch)
        return outcomes

    def _deliver(
        self, batch: list[tuple[Op[Any], asyncio.Future[Any]]], outcomes: list[_Outcome]
    ) -> None:
        for (_fn, future), (ok, value) in zip(batch, outcomes, strict=True):
            if future.done():  # the caller was cancelled; its write may still have landed
                continue
            if ok:
                future.set_result(value)
            elif isinstance(value, asyncio.CancelledError):
                future.cancel()
            elif isinstance(value, sqlite3.Error):
                message = f"sqlite store {self.path}: {value}"
                error = SessionError(message, user_message=UNAVAILABLE)
                error.__cause__ = value
                future.set_exception(error)
            else:
                future.set_exception(value)
