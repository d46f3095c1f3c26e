"""open_store_for: the store the settings name, configured as the bot needs it."""

from __future__ import annotations

from pathlib import Path

from statbot.config import load_settings
from statbot.engine.stores import open_store_for
from statbot.engine.stores.memory import MemoryStore
from statbot.engine.stores.redis import RedisStore
from statbot.engine.stores.sqlite import SqliteStore


def test_redis_sessions_expire_after_timeout_plus_grace(tmp_path: Path) -> None:
    # docs/RELIABILITY.md: abandoned sessions disappear from Redis by themselves. Without a TTL
    # passed in, a Redis-backed bot kept them forever when no cleanup loop ran again.
    settings = load_settings(
        data_dir=tmp_path,
        session_store="redis://127.0.0.1:1/0",  # never connected: construction only
        session_timeout_minutes=30,
        grace_period_minutes=90,
    )
    store = open_store_for(settings)
    assert isinstance(store, RedisStore)
    assert store.ttl_ms == 120 * 60 * 1000


def test_sqlite_and_memory(tmp_path: Path) -> None:
    sqlite = open_store_for(load_settings(data_dir=tmp_path, session_store="sqlite"))
    assert isinstance(sqlite, SqliteStore)
    memory = open_store_for(load_settings(data_dir=tmp_path, session_store="memory"))
    assert isinstance(memory, MemoryStore)
