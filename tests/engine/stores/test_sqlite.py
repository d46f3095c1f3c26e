"""SQLite-specific promises: schema versioning, index use of the scans, compact rows."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from statbot.engine.errors import StaleVersionError
from statbot.engine.events import ConversationKey, Event, EventKind
from statbot.engine.replies import Reply
from statbot.engine.session import Session, SessionStatus
from statbot.engine.stores.sqlite import (
    GRACE_SQL,
    IDLE_SQL,
    MIGRATIONS,
    SCHEMA_VERSION,
    USER_SQL,
    WAL_SIZE_LIMIT,
    SqliteStore,
)
from statbot.errors import SessionError


def plan(path: Path, sql: str, params: tuple[object, ...]) -> str:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return " | ".join(str(r[-1]) for r in rows)


async def test_schema_is_versioned_and_the_scans_are_index_range_scans(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    async with SqliteStore(path) as store:
        await store.commit(Session(ConversationKey("tg", 1, 2)), expected_version=0)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    idle = plan(path, IDLE_SQL, (1.0, 10))
    grace = plan(path, GRACE_SQL, (1.0, 10))
    user = plan(path, USER_SQL, (2,))
    assert "USING COVERING INDEX sessions_idle" in idle and "SCAN" not in idle
    assert "USING COVERING INDEX sessions_grace" in grace and "SCAN" not in grace
    assert "USING INDEX sessions_user" in user


async def test_a_version_1_file_is_migrated_in_place(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    with sqlite3.connect(path) as conn:  # a file written by the first release of the schema
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO sessions (key, user_id, version, status, updated_at, body)"
            " VALUES ('tg:1:2', 2, 3, 'active', 5.0, ?)",
            ('{"key":"tg:1:2","state":"pick","schema_version":1}',),
        )
        conn.execute("PRAGMA user_version=1")
    async with SqliteStore(path) as store:
        loaded = await store.load(ConversationKey("tg", 1, 2))
        assert loaded is not None and (loaded.state, loaded.version) == ("pick", 3)
        assert await store.idle_since(6.0) == [ConversationKey("tg", 1, 2)]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert "COVERING INDEX sessions_idle" in plan(path, IDLE_SQL, (1.0, 10))


async def test_a_newer_schema_is_refused_with_a_clear_error(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(SessionError, match="newer than this statbot"):
        await SqliteStore(path).open()


def test_synchronous_is_validated():
    with pytest.raises(ValueError, match="synchronous"):
        SqliteStore("x.sqlite3", synchronous="SOMETIMES")
    assert SqliteStore("x", synchronous="full").offload is True
    assert SqliteStore("x").offload is False


async def test_sqlite_errors_become_session_errors(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    store = SqliteStore(path)
    with pytest.raises(SessionError, match="not open"):
        await store.load(ConversationKey("tg", 1, 1))
    await store.open()
    try:
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TABLE sessions")
        with pytest.raises(SessionError) as info:
            await store.load(ConversationKey("tg", 1, 1))
        assert isinstance(info.value.__cause__, sqlite3.Error)
        assert "try again" in info.value.user_message
    finally:
        await store.close()
    await store.close()  # idempotent


async def test_idle_session_row_is_compact_json(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    async with SqliteStore(path) as store:
        s = Session(ConversationKey("tg", 1, 2), status=SessionStatus.GRACE, grace_until=5.0)
        await store.commit(s, expected_version=0)
    with sqlite3.connect(path) as conn:
        body = conn.execute("SELECT body FROM sessions").fetchone()[0]
    assert ": " not in body and ", " not in body  # compact separators
    assert '"data"' not in body and '"menu"' not in body  # empty fields are left out
    assert len(body) < 250


def wal_size(path: Path) -> int:
    return Path(f"{path}-wal").stat().st_size


async def test_checkpoint_folds_the_wal_into_the_main_file(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    async with SqliteStore(path) as store:
        for chat in range(50):
            await store.commit(Session(ConversationKey("tg", chat, 2)), expected_version=0)
        assert wal_size(path) > 0
        assert await store.checkpoint() is True
        assert wal_size(path) == 0
        assert len(await store.keys_for_user(2)) == 50


async def test_background_checkpoints_keep_the_wal_bounded(tmp_path: Path):
    # ~30 MB of WAL frames (~4 pages per commit). Commits themselves would only checkpoint at
    # 20,000 pages (~80 MB), so a WAL back under the size limit shows that the background
    # thread checkpointed it all.
    path = tmp_path / "s.sqlite3"
    async with SqliteStore(path) as store:
        history = [{"role": "user", "text": "x" * 400, "at": 1.0}] * 2
        sessions = [Session(ConversationKey("tg", chat, 2), history=history) for chat in range(50)]
        for s in sessions:
            await store.commit(s, expected_version=0)
        for _ in range(70):
            for s in sessions:
                s.updated_at += 1
                await store.commit(s, expected_version=s.version)
            await asyncio.sleep(0.005)
        for _ in range(50):  # quiet now: the next PASSIVE checkpoint completes
            await asyncio.sleep(0.1)
            sessions[0].updated_at += 1
            await store.commit(sessions[0], expected_version=sessions[0].version)
            if wal_size(path) <= WAL_SIZE_LIMIT:
                break
        assert wal_size(path) <= WAL_SIZE_LIMIT


@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])
async def test_concurrent_writes_share_one_transaction_yet_fail_alone(
    tmp_path: Path, synchronous: str
):
    path = tmp_path / "s.sqlite3"
    async with SqliteStore(path, synchronous=synchronous) as store:
        keys = [ConversationKey("tg", chat, 2) for chat in range(50)]
        await store.commit(Session(keys[0]), expected_version=0)
        commits: list[str] = []
        file = store._file  # the store's connection; with FULL owned by its worker thread
        conn = file.db()

        def trace(sql: str) -> None:
            if sql == "COMMIT":
                commits.append(sql)

        await file.run(conn.set_trace_callback, trace)
        stale = Session(keys[0], state="never")
        results = await asyncio.gather(
            *(store.commit(Session(k), expected_version=0) for k in keys[1:]),
            store.commit(stale, expected_version=0),  # stale: keys[0] is at version 1
            *(store.inbox_append(Event.from_update(k, 1, EventKind.TEXT)) for k in keys),
            return_exceptions=True,
        )
        await file.run(conn.set_trace_callback, None)
        assert len(commits) < 5  # 100 writes, a handful of transactions
        assert sum(isinstance(r, StaleVersionError) for r in results) == 1
        assert sum(isinstance(r, BaseException) for r in results) == 1
        loaded = await store.load(keys[0])
        assert loaded is not None and loaded.state is None and loaded.version == 1
        assert len(await store.keys_for_user(2)) == 50
        assert len(await store.inbox_pending()) == 50


async def test_close_waits_for_queued_writes(tmp_path: Path):
    path = tmp_path / "s.sqlite3"
    store = SqliteStore(path)
    await store.open()
    key = ConversationKey("tg", 1, 2)
    tasks = [
        asyncio.create_task(store.inbox_append(Event.from_update(key, n, EventKind.TEXT)))
        for n in range(20)
    ]
    await asyncio.sleep(0)  # the appends are queued, not yet committed
    await store.close()
    assert all(t.done() for t in tasks)
    async with SqliteStore(path) as again:
        assert len(await again.inbox_pending()) == 20


@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])
async def test_a_read_never_overtakes_a_queued_write(tmp_path: Path, synchronous: str):
    # A commit whose caller is cancelled (an engine crash-stop) may still land; a read issued
    # after it (the restarted engine's outbox scan) must then see it, never miss it.
    async with SqliteStore(tmp_path / "s.sqlite3", synchronous=synchronous) as store:
        key = ConversationKey("tg", 1, 2)
        task = asyncio.create_task(
            store.commit(Session(key), expected_version=0, replies=[Reply.say("hi")])
        )
        await asyncio.sleep(0)  # the commit is queued
        task.cancel()
        pending = await store.outbox_pending()
        loaded = await store.load(key)
        assert [i.reply.text for i in pending] == ["hi"]
        assert loaded is not None and loaded.version == 1


_JOURNAL_WRITER = """
import asyncio, sys
from statbot.engine.events import ConversationKey, Event, EventKind
from statbot.engine.stores.sqlite import SqliteStore

async def main():
    store = SqliteStore(sys.argv[1])
    await store.open()
    key = ConversationKey("tg", 1, 2)
    update = int(sys.argv[2])
    while True:
        update += 1
        await store.inbox_append(Event.from_update(key, update, EventKind.TEXT))
        print(update, flush=True)  # acknowledged: durable from here on

asyncio.run(main())
"""


def test_acknowledged_inbox_entries_survive_sigkill(tmp_path: Path):
    # The default synchronous=NORMAL: a process crash must not lose an acknowledged append.
    path = tmp_path / "s.sqlite3"
    acked: list[int] = []
    for attempt in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", _JOURNAL_WRITER, str(path), str(attempt * 1_000_000)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for _ in range(50 + 40 * attempt):  # kill it mid-stream, at a different point each time
            acked.append(int(proc.stdout.readline()))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()

    async def journaled() -> list[int]:
        async with SqliteStore(path) as store:
            return [e.event.update_id or 0 for e in await store.inbox_pending(limit=100_000)]

    found = set(asyncio.run(journaled()))
    assert set(acked) <= found
