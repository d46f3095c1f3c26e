"""SQLite-specific promises: schema versioning, index use of the scans, compact rows."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from statbot.engine.events import ConversationKey
from statbot.engine.session import Session, SessionStatus
from statbot.engine.stores.sqlite import (
    GRACE_SQL,
    IDLE_SQL,
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
    assert "USING INDEX sessions_idle" in idle and "SCAN" not in idle
    assert "USING INDEX sessions_grace" in grace and "SCAN" not in grace
    assert "USING INDEX sessions_user" in user


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
