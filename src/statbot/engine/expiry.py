"""Engine settings and session expiry: idle ACTIVE -> GRACE -> deleted.

Expiry is driven by what is in the store (``updated_at``, ``status``, ``grace_until``), so it
survives restarts. Every change goes through the key's turn, like an event, and is a fenced
commit, so a sweep never overwrites a message that arrived meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from statbot.engine.errors import StaleVersionError
from statbot.engine.events import ConversationKey
from statbot.engine.keyed import RETRY_DELAYS
from statbot.engine.session import SessionStatus

if TYPE_CHECKING:
    from statbot.engine.manager import StateManager

log = logging.getLogger(__name__)

BATCH = 500


@dataclass(frozen=True, slots=True)
class EngineConfig:
    session_timeout_minutes: float = 60.0
    grace_period_minutes: float = 1440.0
    max_history_messages: int = 50
    cleanup_interval_seconds: float = 60.0
    max_dataframe_size_mb: float = 200.0
    max_commit_retries: int = 5  # stale-version re-applies before an event is left in the inbox
    session_cache_size: int = 10_000  # sessions kept in memory between events (0 = always load)
    # waits between attempts at an event whose application raised (store outage)
    retry_delays: tuple[float, ...] = RETRY_DELAYS

    @classmethod
    def from_settings(cls, settings: Any) -> EngineConfig:
        """From :class:`statbot.config.Settings` (typed ``Any`` to keep this import light)."""
        return cls(
            session_timeout_minutes=float(settings.session_timeout_minutes),
            grace_period_minutes=float(settings.grace_period_minutes),
            max_history_messages=int(settings.max_history_messages),
            cleanup_interval_seconds=float(settings.cleanup_interval_seconds),
            max_dataframe_size_mb=float(settings.max_dataframe_size_mb),
        )


class Expiry:
    def __init__(self, manager: StateManager) -> None:
        self.manager = manager

    async def sweep(self, now: float) -> dict[str, int]:
        config = self.manager.config
        cutoff = now - config.session_timeout_minutes * 60
        grace_until = now + config.grace_period_minutes * 60
        to_grace = await self._pages(
            lambda: self.manager.store.idle_since(cutoff, limit=BATCH),
            lambda key: self._to_grace(key, cutoff, grace_until),
        )
        deleted = await self._pages(
            lambda: self.manager.store.grace_expired(now, limit=BATCH),
            lambda key: self._delete_expired(key, now),
        )
        if to_grace or deleted:
            log.info("expiry: %d session(s) into grace, %d deleted", to_grace, deleted)
        return {"to_grace": to_grace, "deleted": deleted}

    async def _pages(self, fetch: Any, change: Any) -> int:
        total = 0
        while True:
            keys: list[ConversationKey] = await fetch()
            if not keys:
                return total
            done = await asyncio.gather(
                *(self.manager.on_key(key, partial(change, key)) for key in keys)
            )
            changed = sum(1 for d in done if d)
            total += changed
            if len(keys) < BATCH or changed == 0:
                return total

    async def _to_grace(self, key: ConversationKey, cutoff: float, grace_until: float) -> bool:
        store = self.manager.store
        self.manager.forget_cached(key)
        session = await store.load(key)
        if session is None or session.status is not SessionStatus.ACTIVE:
            return False
        if session.updated_at >= cutoff:
            return False  # a message arrived since the scan
        session.status = SessionStatus.GRACE
        session.grace_until = grace_until
        try:
            await store.commit(session, expected_version=session.version)
        except StaleVersionError:
            return False
        return True

    async def _delete_expired(self, key: ConversationKey, now: float) -> bool:
        store = self.manager.store
        session = await store.load(key)
        if session is None or session.status is not SessionStatus.GRACE:
            return False
        if (session.grace_until or 0.0) > now:
            return False
        await store.delete(key)
        await self.manager.run_deleted_hooks(session)
        return True
