"""A key's turn when several processes share the store: lease, apply what is pending, release.

Used by the :class:`~statbot.engine.manager.StateManager` instead of applying the one entry it
was handed when the store offers leases (:mod:`statbot.engine.leases`). The entry that started
the turn is only a wake-up: the turn applies the key's pending entries in inbox order as the
store has them, including those journaled by other replicas, until none is left (the lease is
given up in that same step). A key whose lease another process holds is left to it: that
holder sees every entry appended before it gives the lease up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from statbot.engine.apply import Applier
from statbot.engine.cache import SessionCache
from statbot.engine.errors import LeaseLostError
from statbot.engine.leases import Leases
from statbot.engine.stores.base import InboxEntry

log = logging.getLogger("statbot.engine.manager")


class SharedTurns:
    def __init__(
        self, leases: Leases, applier: Applier, cache: SessionCache, counters: dict[str, int]
    ) -> None:
        self.leases = leases
        self.applier = applier
        self.cache = cache
        self.counters = counters
        for name in ("elsewhere", "leases_lost"):
            counters.setdefault(name, 0)

    def _observe(self, what: str, amount: float = 1.0) -> None:
        if self.applier.observe is not None:  # the manager's metrics hook (app.py)
            self.applier.observe(what, amount)

    async def entry(self, entry: InboxEntry) -> None:
        """The KeyedRunner's ``run_entry``: ``entry`` only says that ``entry.key`` has work."""
        await self.turn(entry.key)

    async def turn(
        self, key: str, op: Callable[[], Awaitable[Any]] | None = None
    ) -> tuple[bool, Any]:
        """Hold ``key``'s lease, run ``op`` (if any), then apply the key's pending entries in
        order and give the lease up. (False, None): another process holds the key."""
        got = await self.leases.acquire(key)
        if got is None:
            self.counters["elsewhere"] += 1
            self._observe("lease_elsewhere")
            return False, None
        fence, fresh = got
        if fresh:
            self.cache.drop(key)  # another replica may have moved the conversation since
        result: Any = None
        tried: set[int] = set()
        try:
            if op is not None:
                result = await op()
            while (entry := await self.leases.next_entry(fence)) is not None:
                if entry.seq in tried:
                    # Applying it left it pending (it gave up after stale commits): give the key
                    # up for now; the orphan scan offers it again.
                    await self.leases.release(fence)
                    break
                tried.add(entry.seq)
                await self.applier.apply(entry, fence=fence)
        except LeaseLostError:
            # Another replica took the key over (this one stalled past the lease): it applies
            # what is pending; nothing of ours was committed after the loss.
            self.leases.lost(key)
            self.cache.drop(key)
            self.counters["leases_lost"] += 1
            self._observe("lease_lost")
            log.warning("lost the lease of %s mid-turn; another replica has it", key)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.leases.release(fence)  # let a healthy replica try meanwhile
            raise
        return True, result

    async def orphan_loop(self, take_over: Callable[[], Awaitable[int]]) -> None:
        """Every half lease, take over keys a dead replica left (their leases expired) with
        ``take_over`` (the manager's inbox replay); a replica that stopped cleanly gave its
        leases up already."""
        while True:
            await asyncio.sleep(self.leases.ttl_ms / 2000.0)
            try:
                if taken := await take_over():
                    log.warning("taking over %d conversation(s) with no lease holder", taken)
                    self._observe("lease_takeover", taken)
            except Exception:
                log.exception("orphan scan failed; will retry")
