"""Per-conversation leases in Redis: how several replicas share one inbox in order.

Every replica journals what it receives into the one Redis inbox. A conversation is applied by
whichever replica holds its lease (``lease:<key>``, with a time to live): the holder takes the
key's pending entries oldest first (:meth:`next_entry`), so a chat's updates apply in ``seq``
order whichever replica received them, and the holder's commits carry its fencing token
(``_lua.COMMIT`` checks it): a replica paused past the lease (SIGSTOP, a long GC, a stalled
disk) cannot commit once another has taken over. "Nothing pending" and "release" are one
script, so an entry appended a moment later finds the lease free and its own replica takes it.
A replica that dies leaves its leases to expire; the others find the keys with pending entries
or undelivered replies and no lease (:meth:`orphans`) and take them over.
Scripts: ``_lua_leases.py``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from statbot.engine.errors import LeaseLostError
from statbot.engine.events import Event
from statbot.engine.stores.base import Fence, InboxEntry, LeaseStore

if TYPE_CHECKING:
    from statbot.engine.stores.redis import RedisStore


class RedisLeases(LeaseStore):
    def __init__(self, store: RedisStore) -> None:
        self.store = store

    def _lease(self, key: str) -> str:
        return self.store._k("lease", key)

    async def acquire(self, key: str, owner: str, ttl_ms: int) -> tuple[int, bool] | None:
        token, fresh = await self.store._script(
            "lease_acquire", [self._lease(key), self.store._k("lease:seq")], [owner, ttl_ms]
        )
        return (int(token), bool(fresh)) if int(token) else None

    async def next_entry(self, fence: Fence, ttl_ms: int) -> InboxEntry | None:
        keys = [self._lease(fence.key), self.store._k("ik", fence.key), self.store._k("inbox")]
        row = await self.store._script("lease_next", keys, [fence.value, ttl_ms])
        if int(row[0]) < 0:
            raise LeaseLostError(fence.key)
        if int(row[0]) == 0:
            return None
        event = Event.from_dict(json.loads(row[3]))
        return InboxEntry(int(row[1]), fence.key, str(row[2]), event)

    async def release(self, fence: Fence) -> None:
        await self.store._script("lease_release", [self._lease(fence.key)], [fence.value])

    async def renew(self, fences: Sequence[Fence], ttl_ms: int) -> list[Fence]:
        if not fences:
            return []
        keys = [self._lease(f.key) for f in fences]
        lost = await self.store._script("lease_renew", keys, [ttl_ms, *(f.value for f in fences)])
        return [fences[int(i) - 1] for i in lost]

    async def orphans(self, limit: int = 10_000) -> list[str]:
        found = await self.store._script(
            "lease_orphans",
            [self.store._k("inbox"), self.store._k("outq")],
            [self.store.prefix, limit],
        )
        return [str(name) for name in found]
