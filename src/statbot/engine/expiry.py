"""Session expiry and deletion: idle ACTIVE -> GRACE -> deleted; forgetting a user.

Expiry is driven by what is in the store (``updated_at``, ``status``, ``grace_until``), so it
survives restarts. Every change goes through the key's turn, like an event, and is a fenced
commit, so a sweep never overwrites a message that arrived meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from statbot.engine.errors import KeyBusyError, StaleVersionError
from statbot.engine.events import ConversationKey
from statbot.engine.session import Session, SessionStatus

if TYPE_CHECKING:
    from statbot.engine.manager import StateManager

log = logging.getLogger(__name__)

ForgetHook = Callable[[int], Awaitable[None]]
SessionDeletedHook = Callable[[Session], Awaitable[None]]

BATCH = 500


class Expiry:
    def __init__(self, manager: StateManager) -> None:
        self.manager = manager
        self.forget_hooks: list[ForgetHook] = []
        self.deleted_hooks: list[SessionDeletedHook] = []

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
            done = await asyncio.gather(*(self._unless_busy(key, change) for key in keys))
            changed = sum(1 for d in done if d)
            total += changed
            if len(keys) < BATCH or changed == 0:
                return total

    async def _unless_busy(self, key: ConversationKey, change: Any) -> bool:
        try:
            return bool(await self.manager.on_key(key, partial(change, key)))
        except KeyBusyError:  # another replica is applying it: not idle, nothing to expire
            return False

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
        await self.run_deleted_hooks(session)
        return True

    # deletion and forgetting ----------------------------------------------------------------
    async def delete_session(self, key: ConversationKey) -> bool:
        self.manager.forget_cached(key)
        session = await self.manager.store.load(key)
        if session is None:
            return False
        await self.manager.store.delete(key)
        await self.run_deleted_hooks(session)
        return True

    async def forget_user(self, user_id: int) -> int:
        """Delete every session of ``user_id``, each in its key's turn, then the hooks."""
        count = 0
        for key in await self.manager.store.keys_for_user(user_id):
            if await self.manager.on_key(key, partial(self.delete_session, key)):
                count += 1
        await self.run_forget_hooks(user_id)
        return count

    async def forget_from_handler(self, old: Session, user_id: int) -> Session:
        """ctx.request_forget() / a confirmed /forget, inside ``old.key``'s turn: delete the
        user's other sessions and run the hooks now; this key continues as an empty session
        (the caller commits it with the replies, fenced by the loaded version, so a replay
        after a crash just does it all again)."""
        for key in await self.manager.store.keys_for_user(user_id):
            if key != old.key:
                await self.delete_session(key)
        await self.run_deleted_hooks(old)
        await self.run_forget_hooks(user_id)
        now = self.manager.clock()
        return Session(key=old.key, version=old.version, created_at=now, updated_at=now)

    async def run_deleted_hooks(self, session: Session) -> None:
        """Tell the hooks a session is gone (its data files go with it)."""
        self.manager.forget_cached(session.key, deleted=True)
        for hook in self.deleted_hooks:
            try:
                await hook(session)
            except Exception:
                log.exception("session-deleted hook failed for %s", session.key)

    async def run_forget_hooks(self, user_id: int) -> None:
        for hook in self.forget_hooks:
            try:
                await hook(user_id)
            except Exception:
                log.exception("forget hook failed for user %d", user_id)
