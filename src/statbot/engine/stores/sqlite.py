"""SQLite SessionStore: the embedded default (one file, WAL, versioned atomic commits).

How the async API calls the blocking sqlite3 module (issue #2; measured with
benchmarks/sessions.py, figures in docs/PERFORMANCE.md "Sessions"):

- ``synchronous`` OFF/NORMAL (the default): calls run **inline on the event loop**. In WAL mode a
  NORMAL commit is a ``write()`` into the WAL in the page cache, no fsync: a whole load+commit
  takes ~0.15 ms, mostly JSON. Handing each call to a worker thread instead costs ~120 µs per
  hop on a 2-core VM (thread wake-up + loop wake-up), more than the work itself.
  What could block for long, the WAL checkpoint (copies pages and fsyncs the main file), is moved
  off the loop: a background thread with its own connection runs PASSIVE checkpoints (which
  never block writers) and commits only checkpoint themselves past 20,000 WAL pages.
- ``synchronous`` FULL/EXTRA: every transaction fsyncs the WAL (milliseconds on real disks), so
  calls go to a **dedicated single-thread executor** that owns the only connection; the loop
  stays free and calls are serialised without a lock.

``offload=True/False`` overrides the choice. Writes are group-committed (see ``_write``): all
writes queued while the loop was busy share one transaction, each in its own savepoint.
Writers in other processes are excluded by ``BEGIN IMMEDIATE`` plus ``busy_timeout``, and fenced
by the versioned commit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from statbot.engine.errors import StaleVersionError
from statbot.engine.events import ConversationKey, Event
from statbot.engine.replies import OutboxItem, Reply
from statbot.engine.session import Session, SessionStatus
from statbot.engine.stores._codec import dumps, load_session, session_body
from statbot.engine.stores.base import InboxEntry, SessionStore, StoreCounts
from statbot.errors import SessionError

log = logging.getLogger(__name__)
T = TypeVar("T")
Write = Callable[[sqlite3.Connection], T]  # one write, run inside the group transaction
_Outcome = tuple[bool, Any]  # (succeeded, result or exception)
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
_UNAVAILABLE = "Your conversation could not be saved right now. Please try again in a moment."

# Schema migrations: entry i brings a database from user_version i to i + 1. Append, never edit.
# Partial indexes keep the expiry scans (idle_since, grace_expired) index range scans that touch
# only the matching rows; their WHERE terms must appear literally in the queries below.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE sessions (
            key TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL,
            version INTEGER NOT NULL,
            status TEXT NOT NULL,
            updated_at REAL NOT NULL,
            grace_until REAL,
            workflow TEXT,
            out_seq INTEGER NOT NULL DEFAULT 0,
            body TEXT NOT NULL)""",
        "CREATE INDEX sessions_user ON sessions(user_id)",
        "CREATE INDEX sessions_idle ON sessions(updated_at) WHERE status = 'active'",
        "CREATE INDEX sessions_grace ON sessions(grace_until) WHERE status = 'grace'",
        "CREATE INDEX sessions_in_workflow ON sessions(status) WHERE workflow IS NOT NULL",
        """CREATE TABLE outbox (
            key TEXT NOT NULL,
            seq INTEGER NOT NULL,
            event_id TEXT NOT NULL,
            reply TEXT NOT NULL,
            PRIMARY KEY (key, seq)) WITHOUT ROWID""",
        # AUTOINCREMENT: a seq is never reused, even after the newest entry was consumed.
        """CREATE TABLE inbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL,
            event_id TEXT NOT NULL,
            event TEXT NOT NULL,
            UNIQUE (key, event_id))""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
# The scans: their WHERE terms repeat the partial indexes' literally so the planner uses them
# (tests/engine/stores/test_sqlite.py checks the plans).
IDLE_SQL = (
    "SELECT key FROM sessions WHERE status = 'active' AND updated_at < ?"
    " ORDER BY updated_at LIMIT ?"
)
GRACE_SQL = (
    "SELECT key FROM sessions WHERE status = 'grace' AND grace_until <= ?"
    " ORDER BY grace_until LIMIT ?"
)
USER_SQL = "SELECT key FROM sessions WHERE user_id = ?"
# WAL size (pages of 4 KiB) at which the background thread checkpoints, and the hard bound at
# which a committing connection would checkpoint by itself.
CHECKPOINT_PAGES = 1000
AUTOCHECKPOINT_PAGES = 20000
WAL_SIZE_LIMIT = 4 * CHECKPOINT_PAGES * 4096


class SqliteStore(SessionStore):
    name = "sqlite"

    def __init__(
        self, path: str | Path, *, synchronous: str = "NORMAL", offload: bool | None = None
    ) -> None:
        mode = synchronous.upper()
        if mode not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, not {synchronous!r}")
        self.path = Path(path)
        self.synchronous = mode
        self.offload = offload if offload is not None else mode in ("FULL", "EXTRA")
        self._conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._checkpointer: _Checkpointer | None = None
        self._queue: list[tuple[Write[Any], asyncio.Future[Any]]] = []
        self._flushing = False
        self._flush_task: asyncio.Task[None] | None = None

    # lifecycle ------------------------------------------------------------------------------
    async def open(self) -> None:
        if self._conn is not None:
            return
        if self.offload:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="statbot-sqlite")
        try:
            await self._run(self._open_sync)
        except BaseException:
            self._shutdown_executor()
            raise
        self._checkpointer = _Checkpointer(self.path)
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
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        log.info(
            "sqlite store %s open (synchronous=%s, offload=%s)",
            self.path,
            self.synchronous,
            self.offload,
        )

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if current > SCHEMA_VERSION:
                raise SessionError(
                    f"session database schema {current} is newer than this statbot"
                    f" ({SCHEMA_VERSION}); upgrade statbot or restore a backup"
                )
            for version in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)
                log.info("sqlite store migrated to schema %d", version + 1)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        if self._conn is not None:
            await self._write(lambda conn: None)  # queued after every pending write: drains them
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            await asyncio.get_running_loop().run_in_executor(None, checkpointer.stop)
        try:
            if self._conn is not None:
                await self._run(self._close_sync)
        finally:
            self._shutdown_executor()

    def _close_sync(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _shutdown_executor(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            if self._executor is None:
                return fn(*args)
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        except sqlite3.Error as exc:
            message = f"sqlite store {self.path}: {exc}"
            raise SessionError(message, user_message=_UNAVAILABLE) from exc

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise SessionError("sqlite store is not open", user_message=_UNAVAILABLE)
        return self._conn

    async def _read(self, fn: Write[T]) -> T:
        """Run a read. If writes are queued, it joins their batch behind them, so that no read
        overtakes a write issued before it (e.g. one whose caller was cancelled: it still
        lands, and a restart's outbox scan must see it)."""
        if self._queue:
            return await self._write(fn)
        return await self._run(fn, self._db())

    # group commit ---------------------------------------------------------------------------
    # Every write (commit, inbox append/discard, delivery marks, delete) is queued; the writes
    # queued while the loop was busy run in ONE ``BEGIN IMMEDIATE`` transaction, each inside
    # its own SAVEPOINT, so each is still atomic on its own (a stale commit rolls back to its
    # savepoint and writes nothing) while 200 concurrent conversations pay for one WAL append
    # (and, with FULL, one fsync) instead of 200. No caller is answered before the COMMIT.
    async def _write(self, fn: Write[T]) -> T:
        self._db()  # refuse when closed
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
                outcomes = await loop.run_in_executor(self._executor, self._apply, batch)
                self._deliver(batch, outcomes)
        finally:
            self._flushing = False

    def _apply(self, batch: list[tuple[Write[Any], asyncio.Future[Any]]]) -> list[_Outcome]:
        """Run a batch of writes in one transaction; an outcome per write, none raised."""
        conn = self._conn
        if conn is None:
            return [(False, SessionError("sqlite store is not open"))] * len(batch)
        outcomes: list[_Outcome] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            if len(batch) == 1:  # no savepoint needed: the transaction is the write
                try:
                    outcomes.append((True, batch[0][0](conn)))
                except Exception as exc:
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
        self, batch: list[tuple[Write[Any], asyncio.Future[Any]]], outcomes: list[_Outcome]
    ) -> None:
        for (_fn, future), (ok, value) in zip(batch, outcomes, strict=True):
            if future.done():  # the caller was cancelled; its write may still have landed
                continue
            if ok:
                future.set_result(value)
            elif isinstance(value, sqlite3.Error):
                message = f"sqlite store {self.path}: {value}"
                error = SessionError(message, user_message=_UNAVAILABLE)
                error.__cause__ = value
                future.set_exception(error)
            else:
                future.set_exception(value)

    # sessions -------------------------------------------------------------------------------
    async def load(self, key: ConversationKey) -> Session | None:
        name = str(key)
        return await self._read(lambda conn: self._load_sync(conn, name))

    @staticmethod
    def _load_sync(conn: sqlite3.Connection, name: str) -> Session | None:
        row = conn.execute("SELECT body, version FROM sessions WHERE key = ?", (name,))
        found = row.fetchone()
        if found is None:
            return None
        return load_session(found[0], int(found[1]))

    async def commit(
        self,
        session: Session,
        *,
        expected_version: int,
        replies: Sequence[Reply] = (),
        event_id: str = "",
        inbox_seq: int | None = None,
    ) -> list[OutboxItem]:
        name = str(session.key)
        version = expected_version + 1
        body = session_body(session, version)
        grace = (session.grace_until or 0.0) if session.status is SessionStatus.GRACE else None
        row = (
            session.user_id,
            version,
            session.status.value,
            session.updated_at,
            grace,
            session.workflow or None,
            body,
        )
        payloads = [dumps(reply.to_dict()) for reply in replies]

        def txn(conn: sqlite3.Connection) -> int:
            found = conn.execute(
                "SELECT version, out_seq FROM sessions WHERE key = ?", (name,)
            ).fetchone()
            actual = int(found[0]) if found is not None else 0
            if actual != expected_version:
                raise StaleVersionError(name, expected_version, actual)
            first = (int(found[1]) if found is not None else 0) + 1
            conn.execute(
                "INSERT INTO sessions (key, user_id, version, status, updated_at, grace_until,"
                " workflow, body, out_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET version = excluded.version,"
                " status = excluded.status, updated_at = excluded.updated_at,"
                " grace_until = excluded.grace_until, workflow = excluded.workflow,"
                " body = excluded.body, out_seq = excluded.out_seq",
                (name, *row, first - 1 + len(payloads)),
            )
            if payloads:
                conn.executemany(
                    "INSERT INTO outbox (key, seq, event_id, reply) VALUES (?, ?, ?, ?)",
                    [(name, first + i, event_id, p) for i, p in enumerate(payloads)],
                )
            if inbox_seq is not None:
                conn.execute("DELETE FROM inbox WHERE seq = ?", (inbox_seq,))
            return first

        first = await self._write(txn)
        session.version = version
        return [OutboxItem(name, first + i, event_id, reply) for i, reply in enumerate(replies)]

    async def delete(self, key: ConversationKey) -> None:
        name = str(key)

        def txn(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sessions WHERE key = ?", (name,))
            conn.execute("DELETE FROM outbox WHERE key = ?", (name,))
            conn.execute("DELETE FROM inbox WHERE key = ?", (name,))

        await self._write(txn)

    # inbox ----------------------------------------------------------------------------------
    async def inbox_append(self, event: Event) -> int | None:
        params = (str(event.key), event.event_id, dumps(event.to_dict()))

        def txn(conn: sqlite3.Connection) -> int | None:
            cur = conn.execute(
                "INSERT OR IGNORE INTO inbox (key, event_id, event) VALUES (?, ?, ?)", params
            )
            return cur.lastrowid if cur.rowcount == 1 else None

        return await self._write(txn)

    async def inbox_pending(self, limit: int = 1000, after_seq: int = 0) -> list[InboxEntry]:
        def read(conn: sqlite3.Connection) -> list[InboxEntry]:
            rows = conn.execute(
                "SELECT seq, key, event_id, event FROM inbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            )
            return [
                InboxEntry(int(seq), key, event_id, Event.from_dict(json.loads(event)))
                for seq, key, event_id, event in rows
            ]

        return await self._read(read)

    async def inbox_discard(self, seq: int) -> None:
        def txn(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM inbox WHERE seq = ?", (seq,))

        await self._write(txn)

    # outbox ---------------------------------------------------------------------------------
    async def outbox_pending(self, key: str | None = None, limit: int = 1000) -> list[OutboxItem]:
        if key is None:
            sql, params = "SELECT * FROM outbox ORDER BY key, seq LIMIT ?", (limit,)
        else:
            sql = "SELECT * FROM outbox WHERE key = ? ORDER BY seq LIMIT ?"
            params = (key, limit)  # type: ignore[assignment]

        def read(conn: sqlite3.Connection) -> list[OutboxItem]:
            rows = conn.execute(sql, params)
            return [OutboxItem(k, int(s), e, Reply.from_dict(json.loads(r))) for k, s, e, r in rows]

        return await self._read(read)

    async def outbox_mark_delivered(self, key: str, seqs: Sequence[int]) -> None:
        # Delivered items are dropped: nothing reads them again (as in memory.py).
        rows = [(key, int(seq)) for seq in seqs]
        if not rows:
            return

        def txn(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM outbox WHERE key = ? AND seq = ?", rows)

        await self._write(txn)

    # expiry, users, counts ------------------------------------------------------------------
    async def idle_since(self, before: float, limit: int = 1000) -> list[ConversationKey]:
        return await self._keys(IDLE_SQL, (before, limit))

    async def grace_expired(self, now: float, limit: int = 1000) -> list[ConversationKey]:
        return await self._keys(GRACE_SQL, (now, limit))

    async def keys_for_user(self, user_id: int) -> list[ConversationKey]:
        keys = await self._keys(USER_SQL, (user_id,))
        return sorted(keys)

    async def _keys(self, sql: str, params: tuple[Any, ...]) -> list[ConversationKey]:
        def read(conn: sqlite3.Connection) -> list[str]:
            return [row[0] for row in conn.execute(sql, params)]

        return [ConversationKey.parse(name) for name in await self._read(read)]

    async def counts(self) -> StoreCounts:
        def read(conn: sqlite3.Connection) -> StoreCounts:
            def one(sql: str) -> int:
                return int(conn.execute(sql).fetchone()[0])

            own = not conn.in_transaction  # inside a group transaction it is one snapshot already
            if own:
                conn.execute("BEGIN")  # one snapshot for all the numbers
            try:
                return StoreCounts(
                    sessions=one("SELECT COUNT(*) FROM sessions"),
                    active=one("SELECT COUNT(*) FROM sessions WHERE status = 'active'"),
                    in_grace=one("SELECT COUNT(*) FROM sessions WHERE status = 'grace'"),
                    in_workflow=one("SELECT COUNT(*) FROM sessions WHERE workflow IS NOT NULL"),
                    inbox=one("SELECT COUNT(*) FROM inbox"),
                    outbox=one("SELECT COUNT(*) FROM outbox"),
                )
            finally:
                if own:
                    conn.execute("COMMIT")

        return await self._read(read)

    async def checkpoint(self, attempts: int = 50) -> bool:
        """Fold the WAL back into the main file and truncate it (backups, benchmarks).
        Returns False if other connections kept it from completing after ``attempts`` tries."""

        def run() -> bool:
            busy, _log, _done = self._db().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return int(busy) == 0

        await self._write(lambda conn: None)  # after the writes queued so far
        for _ in range(attempts):
            if await self._run(run):
                return True
            await asyncio.sleep(0.05)
        return False


class _Checkpointer:
    """Background thread with its own connection: PASSIVE checkpoints once the WAL has grown.

    PASSIVE never waits for and never blocks readers or writers, so commits on the main
    connection keep their latency while pages are copied and the main file is fsynced.
    """

    def __init__(self, path: Path, interval: float = 0.2) -> None:
        self._path = path
        self._wal = Path(f"{path}-wal")
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="statbot-sqlite-ckpt", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _loop(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stopping.wait(self._interval):
                try:
                    size = self._wal.stat().st_size
                except FileNotFoundError:
                    continue
                if size < CHECKPOINT_PAGES * 4096:
                    continue
                try:
                    if conn is None:
                        conn = sqlite3.connect(self._path, isolation_level=None, timeout=1.0)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:  # e.g. a backup holds a lock: try again later
                    log.warning("sqlite background checkpoint of %s failed: %s", self._path, exc)
        finally:
            if conn is not None:
                conn.close()
