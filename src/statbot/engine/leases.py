"""This process's leases on conversation keys, when several processes share one store.

With a store that offers leases (:meth:`SessionStore.leases`: Redis), a key's turn in this
process (:class:`~statbot.engine.keyed.KeyedRunner`) first takes the key's lease, then applies
the key's pending inbox entries oldest first *from the store* — whichever replica journaled them
— and gives the lease up in the same step that finds nothing pending
(:mod:`statbot.engine.stores.redis_leases`). So per-chat order holds across replicas, and each
commit carries the lease's fencing token: a process that stalled past the lease cannot commit
over the replica that took the key over (DESIGN.md promise 3).

The leases held are renewed every third of their time to live while their turn runs (a slow
handler or a slow Telegram keeps its key); a lease found lost is forgotten here and the turn
stops. :meth:`Leases.stop` gives every lease up, so a replica that stops cleanly leaves nothing
to wait for; one that dies leaves its leases to expire, and the survivors take over the keys
with pending entries (:meth:`Leases.orphans`, polled every half lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket

from statbot.engine.errors import LeaseLostError
from statbot.engine.stores.base import Fence, InboxEntry, LeaseStore

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 10.0


def process_owner() -> str:
    """A name for this process that no other process, here or on another host, shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Leases:
    def __init__(
        self,
        store: LeaseStore,
        *,
        owner: str | None = None,
        ttl_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.store = store
        self.owner = owner or process_owner()
        self.ttl_ms = max(100, int(ttl_seconds * 1000))
        self._held: dict[str, Fence] = {}
        self._renewer: asyncio.Task[None] | None = None

    @property
    def interval(self) -> float:
        """How often held leases are renewed (a third of their time to live)."""
        return self.ttl_ms / 3000.0

    def held(self) -> list[str]:
        return sorted(self._held)

    async def acquire(self, key: str) -> tuple[Fence, bool] | None:
        """The lease of ``key`` and whether it is newly ours (what this process cached of the
        key may be stale then), or None: another process holds it."""
        got = await self.store.acquire(key, self.owner, self.ttl_ms)
        if got is None:
            self._held.pop(key, None)
            return None
        token, fresh = got
        fence = Fence(key, self.owner, token, self.ttl_ms)
        fresh = fresh or self._held.get(key) != fence
        self._held[key] = fence
        return fence, fresh

    async def next_entry(self, fence: Fence) -> InboxEntry | None:
        """The key's oldest pending entry; None: nothing pending, and the lease is given up."""
        try:
            entry = await self.store.next_entry(fence, self.ttl_ms)
        except LeaseLostError:
            self._held.pop(fence.key, None)
            raise
        if entry is None:
            self._held.pop(fence.key, None)
        return entry

    async def release(self, fence: Fence) -> None:
        self._held.pop(fence.key, None)
        await self.store.release(fence)

    def lost(self, key: str) -> None:
        self._held.pop(key, None)

    async def orphans(self, limit: int = 10_000) -> list[str]:
        return await self.store.orphans(limit)

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        if self._renewer is None:
            self._renewer = asyncio.create_task(self._renew_loop(), name="statbot-leases")

    async def stop(self) -> None:
        task, self._renewer = self._renewer, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for fence in list(self._held.values()):
            try:
                await self.release(fence)
            except Exception:  # the store is down: the lease expires by itself
                log.warning("could not give up the lease of %s; it expires", fence.key)
        self._held.clear()

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                for fence in await self.store.renew(list(self._held.values()), self.ttl_ms):
                    if self._held.get(fence.key) == fence:  # not given up meanwhile: lost
                        del self._held[fence.key]
                        log.warning("the lease of %s was lost (this process stalled?)", fence.key)
            except Exception:
                log.warning("renewing %d lease(s) failed", len(self._held), exc_info=True)
