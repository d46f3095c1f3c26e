"""Session stores: one contract (base.py), one backend per module."""

from __future__ import annotations

from typing import TYPE_CHECKING

from statbot.engine.stores.base import InboxEntry, SessionStore, StoreCounts

if TYPE_CHECKING:
    from statbot.config import Settings

__all__ = ["InboxEntry", "SessionStore", "StoreCounts", "open_store", "open_store_for"]


def open_store(
    spec: str,
    *,
    sqlite_path: str = "",
    synchronous: str = "NORMAL",
    session_ttl_seconds: float | None = None,
) -> SessionStore:
    """Build the store named by ``STATBOT_SESSION_STORE`` (``memory``, ``sqlite``, ``redis://``).

    ``session_ttl_seconds`` (Redis only): pass session timeout + grace period so that Redis
    drops abandoned sessions by itself (docs/RELIABILITY.md "Session stores")."""
    if spec == "memory":
        from statbot.engine.stores.memory import MemoryStore

        return MemoryStore()
    if spec == "sqlite":
        from statbot.engine.stores.sqlite import SqliteStore

        store: SessionStore = SqliteStore(sqlite_path, synchronous=synchronous)
        return store
    from statbot.engine.stores.redis import RedisStore

    redis_store: SessionStore = RedisStore(spec, session_ttl_seconds=session_ttl_seconds)
    return redis_store


def open_store_for(settings: Settings) -> SessionStore:
    """The store the settings name, configured the one way the bot, ``statbot chat`` and
    ``statbot doctor`` all need it (SQLite file and durability; Redis TTL = session timeout +
    grace period)."""
    return open_store(
        settings.session_store,
        sqlite_path=str(settings.sqlite_path),
        synchronous=settings.sqlite_synchronous,
        session_ttl_seconds=(settings.session_timeout_minutes + settings.grace_period_minutes) * 60,
    )
