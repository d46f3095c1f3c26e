"""Handing committed replies to the channel, in order, at least once.

The deliverer is the channel's send function for one conversation key: it gets that key's
undelivered replies in outbox order and returns the seqs it has sent; those are marked delivered
in the store. Whatever it did not return (or everything, if it raised) stays in the outbox and
is offered again: on the key's next event, by the cleanup loop, and on the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from statbot.engine.replies import OutboxItem
from statbot.engine.stores.base import SessionStore

log = logging.getLogger(__name__)

Deliverer = Callable[[str, list[OutboxItem]], Awaitable[Sequence[int]]]


class Delivery:
    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self.deliverer: Deliverer | None = None
        # Keys whose last delivery left something behind: their next delivery looks the
        # pending replies up instead of trusting the just-committed ones. Only failures add.
        self.undelivered: set[str] = set()
        # Several processes share the store (leases): another may have left replies of a key
        # undelivered, so every delivery looks the pending ones up.
        self.shared = False

    async def deliver(self, key: str, items: list[OutboxItem] | None = None) -> None:
        """Send ``key``'s undelivered replies in order. ``items``: what was just committed
        (enough when nothing older is pending); None: look the pending ones up."""
        if self.deliverer is None:
            return
        if items is None or self.shared or key in self.undelivered:
            items = await self.store.outbox_pending(key)
        if not items:
            self.undelivered.discard(key)
            return
        try:
            done = list(await self.deliverer(key, list(items)))
        except Exception:
            log.exception("delivering %d repl(ies) to %s failed; will retry", len(items), key)
            self.undelivered.add(key)
            return
        if done:
            await self.store.outbox_mark_delivered(key, done)
        if set(done) >= {item.seq for item in items}:
            self.undelivered.discard(key)
        else:
            self.undelivered.add(key)
