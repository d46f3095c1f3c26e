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

``offload=True/False`` overrides the choice. Writes are group-committed (``_sqlite_file.py``): all
writes queued while the loop was busy share one transaction, each in its own savepoint.
Writers in other processes are excluded by ``BEGIN IMMEDIATE`` plus ``busy_timeout``, and fenced
by the versioned commit.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from statbot.engine.errors import StaleVersionError
from statbot.engine.events import ConversationKey, Event
from statbot.engine.replies import OutboxItem, Reply
from statbot.engine.session import Session, SessionStatus
from statbot.engine.stores._codec import dumps, load_session, session_body
from statbot.engine.stores._sqlite_file import StoreFile
from statbot.engine.stores._sqlite_schema import (
    GRACE_SQL,
    IDLE_SQL,
    MIGRATIONS,
    SCHEMA_VERSION,
    USER_SQL,
)
from statbot.engine.stores._sqlite_wal import WAL_SIZE_LIMIT
from statbot.engine.stores.base import Fence, InboxEntry, Quarantined, SessionStore, StoreCounts

__all__ = [
    "GRACE_SQL",
    "IDLE_SQL",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "USER_SQL",
    "WAL_SIZE_LIMIT",
    "SqliteStore",
]

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


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
        self._file = StoreFile(self.path, mode, self.offload)

    async def open(self) -> None:
        await self._file.open()

    async def close(self) -> None:
        await self._file.close()

    # sessions -------------------------------------------------------------------------------
    async def load(self, key: ConversationKey) -> Session | None:
        name = str(key)
        return await self._file.read(lambda conn: self._load_sync(conn, name))

    @staticmethod
    def _load_sync(conn: sqlite3.Connection, name: str) -> Session | None:
        row = conn.execute("SELECT body, version FROM sessions WHERE key = ?", (name,))
        found = row.fetchone()
        if found is None:
            return None
        return load_session(found[0], int(found[1]), name)

    async def commit(
        self,
        session: Session,
        *,
        expected_version: int,
        replies: Sequence[Reply] = (),
        event_id: str = "",
        inbox_seq: int | None = None,
        fence: Fence | None = None,
    ) -> list[OutboxItem]:
        self._refuse_fence(fence)
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

        first = await self._file.write(txn)
        session.version = version
        return [OutboxItem(name, first + i, event_id, reply) for i, reply in enumerate(replies)]

    async def delete(self, key: ConversationKey) -> None:
        name = str(key)

        def txn(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sessions WHERE key = ?", (name,))
            conn.execute("DELETE FROM outbox WHERE key = ?", (name,))
            conn.execute("DELETE FROM inbox WHERE key = ?", (name,))

        await self._file.write(txn)

    # inbox ----------------------------------------------------------------------------------
    async def inbox_append(self, event: Event) -> int | None:
        params = (str(event.key), event.event_id, dumps(event.to_dict()))

        def txn(conn: sqlite3.Connection) -> int | None:
            cur = conn.execute(
                "INSERT OR IGNORE INTO inbox (key, event_id, event) VALUES (?, ?, ?)", params
            )
            return cur.lastrowid if cur.rowcount == 1 else None

        return await self._file.write(txn)

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

        return await self._file.read(read)

    async def inbox_discard(self, seq: int) -> None:
        def txn(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM inbox WHERE seq = ?", (seq,))

        await self._file.write(txn)

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

        return await self._file.read(read)

    async def outbox_mark_delivered(self, key: str, seqs: Sequence[int]) -> None:
        # Delivered items are dropped: nothing reads them again (as in memory.py).
        rows = [(key, int(seq)) for seq in seqs]
        if not rows:
            return

        def txn(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM outbox WHERE key = ? AND seq = ?", rows)

        await self._file.write(txn)

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

        return [ConversationKey.parse(name) for name in await self._file.read(read)]

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

        return await self._file.read(read)

    async def checkpoint(self, attempts: int = 50) -> bool:
        """Fold the WAL back into the main file and truncate it (backups, benchmarks).
        Returns False if other connections kept it from completing after ``attempts`` tries."""

        def run() -> bool:
            conn = self._file.db()
            busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return int(busy) == 0

        await self._file.write(lambda conn: None)  # after the writes queued so far
        for _ in range(attempts):
            if await self._file.run(run):
                return True
            await asyncio.sleep(0.05)
        return False

    async def sessions_by_workflow(self, limit: int = 10_000) -> dict[str, int]:
        def read(conn: sqlite3.Connection) -> dict[str, int]:
            rows = conn.execute(
                "SELECT workflow, COUNT(*) FROM (SELECT workflow FROM sessions"
                " WHERE workflow IS NOT NULL LIMIT ?) GROUP BY workflow",
                (limit,),
            )
            return {str(w): int(n) for w, n in rows.fetchall()}

        return await self._file.read(read)

    # damaged records ------------------------------------------------------------------------
    async def quarantine(self, key: str, body: str, reason: str, at: float) -> None:
        def txn(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO quarantine (key, at, reason, body) VALUES (?, ?, ?, ?)",
                (key, at, reason, body),
            )

        await self._file.write(txn)

    async def quarantined(self, limit: int = 100) -> list[Quarantined]:
        def read(conn: sqlite3.Connection) -> list[Quarantined]:
            rows = conn.execute(
                "SELECT key, at, reason, body FROM quarantine ORDER BY id LIMIT ?", (limit,)
            )
            return [Quarantined(k, float(a), r, b) for k, a, r, b in rows.fetchall()]

        return await self._file.read(read)
