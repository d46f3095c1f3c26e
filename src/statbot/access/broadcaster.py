"""Sending a broadcast (issue 12): one engine event per recipient, within the rate limits,
resumed after a crash, each recipient once.

Why through the engine: a recipient's notice is an engine event (``NOTICE``, id
``b<broadcast>:<user>``) in the recipient's own conversation, so it gets what every reply has:
journaled before anything is sent, applied once (the id is deduped), delivered in order with the
recipient's own replies (never between the parts of one), and re-sent from the outbox after a
restart. The catalog keeps each recipient's state (:mod:`statbot.access.broadcasts`), and is
what decides, right before the Bot API call, whether a message still has to go: the channel
calls :meth:`Broadcaster.claim` before and :meth:`Broadcaster.result` after each send (its
``bulk`` hook, set in the app; channels never import this room).

The fan-out is windowed: at most ``window`` recipients are in the engine without an outcome,
and more are handed over as outcomes come in. The channel sends bulk messages one at a time at
the overall rate (~30/s), so a recipient's conversation waits behind its notice for about
``window`` / rate seconds at most, not for the whole broadcast. When every recipient has an
outcome, the admin is told the counts (a NOTICE to the conversation that confirmed it,
``b<broadcast>:done``) and the broadcast is marked done. On start, unfinished broadcasts
continue: what was queued is in the engine's journal, the rest is handed over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from statbot.access.broadcasts import SENT, BroadcastInfo, Broadcasts, Counts
from statbot.engine.events import ConversationKey, Event, EventKind
from statbot.engine.replies import OutboxItem

log = logging.getLogger(__name__)

Submit = Callable[[Event], Awaitable[bool]]
Deliver = Callable[[str, list[OutboxItem]], Awaitable[Sequence[int]]]
META = "broadcast"  # the reply meta naming the broadcast a notice belongs to
WINDOW = 30  # recipients in the engine without an outcome, per broadcast


def report_text(info: BroadcastInfo, counts: Counts) -> str:
    """What the admin reads when a broadcast has finished."""
    return (
        f"Broadcast #{info.id} finished: sent to {counts.sent}, "
        f"{counts.blocked} blocked the bot, {counts.failed} failed."
    )


class Broadcaster:
    """The fan-out loop and the channel's bulk hook. ``durable``: the session store keeps its
    journal across restarts (not the memory store: there, queued recipients are re-queued)."""

    def __init__(
        self,
        broadcasts: Broadcasts,
        submit: Submit,
        *,
        window: int = WINDOW,
        durable: bool = True,
        poll_seconds: float = 2.0,
    ) -> None:
        self.broadcasts = broadcasts
        self.submit = submit
        self.window = window
        self.durable = durable
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Continue unfinished broadcasts; run until :meth:`stop`. Idempotent. Start after
        the engine (it submits events)."""
        if self._task is not None:
            return
        active = await asyncio.to_thread(self.broadcasts.active)
        if active:
            log.info("continuing %d unfinished broadcast(s)", len(active))
        if not self.durable:
            for info in active:
                await asyncio.to_thread(self.broadcasts.requeue, info.id)
        self._task = asyncio.create_task(self._run(), name="statbot-broadcasts")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def kick(self) -> None:
        """Something changed (a new broadcast, an outcome): look again now."""
        self._wake.set()

    # what the workflow uses -----------------------------------------------------------------
    async def create(
        self, *, key: str, created_by: int, reply_to: ConversationKey, audience: str, text: str
    ) -> BroadcastInfo:
        info = await asyncio.to_thread(
            lambda: self.broadcasts.create(
                key=key,
                created_by=created_by,
                reply_to=str(reply_to),
                audience=audience,
                text=text,
            )
        )
        self.kick()
        return info

    # the channel's bulk hook ----------------------------------------------------------------
    async def claim(self, chat_id: int, meta: dict[str, Any]) -> bool:
        """Right before the Bot API call: False when this notice must not be sent (already
        has an outcome)."""
        return await asyncio.to_thread(self.broadcasts.claim, int(meta[META]), chat_id)

    async def result(
        self, chat_id: int, meta: dict[str, Any], outcome: str, message_id: int | None
    ) -> None:
        """Right after it: ``sent``, ``blocked`` or ``failed``."""
        await asyncio.to_thread(
            self.broadcasts.record, int(meta[META]), chat_id, outcome, message_id
        )
        self.kick()

    def wrap(self, deliver: Deliver) -> Deliver:
        """A deliverer for channels without a bulk hook (the console, the test driver): claim
        and record around the plain one (every notice it accepts counts as sent)."""

        async def delivering(key: str, items: list[OutboxItem]) -> Sequence[int]:
            chat_id = ConversationKey.parse(key).chat_id
            done: list[int] = []
            for item in items:
                meta = item.reply.meta
                if META in meta and not await self.claim(chat_id, meta):
                    done.append(item.seq)
                    continue
                sent = list(await deliver(key, [item]))
                if not sent:  # left in the outbox; offered again later, claimed again then
                    break
                if META in meta:
                    await self.result(chat_id, meta, SENT, None)
                done.extend(sent)
            return done

        return delivering

    # the loop -------------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.pump()
            except Exception:  # the catalog or the store is down: the next round tries again
                log.exception("broadcast round failed; will retry")
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that comes
            # as the wake-up does, and stop() then waits for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()

    async def pump(self) -> None:
        """One round: top the oldest unfinished broadcast's window up; report the finished
        ones. A later broadcast is handed over only once the older ones are, so that every
        recipient gets two broadcasts in the order they were sent."""
        for info in await asyncio.to_thread(self.broadcasts.active):
            if await self._advance(info):
                return

    async def _advance(self, info: BroadcastInfo) -> bool:
        """Hand the next recipients over; True while some are still to be handed over."""
        b = self.broadcasts
        if info.reply_to is None:  # not from this version's /broadcast; nothing to address
            return False
        channel = ConversationKey.parse(info.reply_to).channel
        room = self.window - await asyncio.to_thread(b.in_flight, info.id)
        if room > 0:
            ids = await asyncio.to_thread(b.pending, info.id, room)
            for user_id in ids:
                # Journaled when submit returns; a crash before mark_queued submits it again,
                # and the engine drops the second copy by its id.
                await self.submit(
                    Event(
                        key=ConversationKey(channel, user_id, user_id),
                        kind=EventKind.NOTICE,
                        event_id=f"b{info.id}:{user_id}",
                        text=info.text,
                        meta={META: info.id},
                    )
                )
            await asyncio.to_thread(b.mark_queued, info.id, ids)
        left: list[int] = await asyncio.to_thread(b.pending, info.id, 1)
        if left:
            return True
        counts = await asyncio.to_thread(b.counts, info.id)
        if counts.open:
            return False
        # Every recipient has an outcome: tell the admin, then mark it done (a crash between
        # the two tells again, and the engine drops the second copy by its id).
        await self.submit(
            Event(
                key=ConversationKey.parse(info.reply_to),
                kind=EventKind.NOTICE,
                event_id=f"b{info.id}:done",
                text=report_text(info, counts),
            )
        )
        await asyncio.to_thread(b.mark_done, info.id)
        log.info(
            "broadcast %d finished: %d sent, %d blocked, %d failed",
            info.id,
            counts.sent,
            counts.blocked,
            counts.failed,
        )
        return False
