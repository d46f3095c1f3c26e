"""StateManager: journals events, applies them one at a time per conversation, commits, delivers.

The promises it keeps (DESIGN.md): an event is durable in the store's inbox before ``submit``
returns (the channel acknowledges Telegram only then); each applied event is ONE atomic,
versioned commit of session + replies + applied id + inbox consumption; a duplicate is never
applied twice and its pending replies are re-sent; per key, events apply in inbox order;
different keys run concurrently (one task per busy key, gone when its queue empties).

This module is the engine's surface: wiring, lifecycle, ``submit``/``drain``, expiry and
forgetting, and the background work (inbox replay, cleanup loop, delivery retries). Applying one
entry — cache or load, dedupe, dispatch, fenced commit, re-apply on a stale version — is
:mod:`statbot.engine.apply`.

Delivery (:mod:`statbot.engine.delivery`): after the commit the deliverer set with
``set_deliverer`` gets that key's undelivered replies in order and returns the seqs it sent;
they are marked delivered. Anything else stays in the outbox and is offered again on the key's
next event, by the cleanup loop, and on the next start (delivery is at least once).

``drain()`` returns when the engine is idle: everything submitted so far is committed and its
delivery attempted once. The cleanup loop (every ``cleanup_interval_seconds``) runs the expiry
sweep, re-sends failed deliveries and re-schedules inbox entries left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from statbot.engine.apply import Applier, Observer
from statbot.engine.cache import SessionCache
from statbot.engine.delivery import Deliverer, Delivery
from statbot.engine.dispatch import Dispatcher
from statbot.engine.errors import KeyBusyError
from statbot.engine.events import ConversationKey, Event
from statbot.engine.expiry import Expiry, ForgetHook, SessionDeletedHook
from statbot.engine.gate import Gate, Permissions
from statbot.engine.keyed import KeyedRunner
from statbot.engine.leases import Leases
from statbot.engine.migrations import Migrations
from statbot.engine.options import EngineConfig
from statbot.engine.stores.base import InboxEntry, SessionStore
from statbot.engine.turns import SharedTurns
from statbot.engine.workflow import WorkflowRegistry
from statbot.errors import SessionError

log = logging.getLogger(__name__)
T = TypeVar("T")


__all__ = ["Deliverer", "EngineConfig", "StateManager"]


class StateManager:
    def __init__(
        self,
        store: SessionStore,
        registry: WorkflowRegistry,
        *,
        services: Any = None,
        config: EngineConfig | None = None,
        clock: Callable[[], float] = time.time,
        migrations: Migrations | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.config = config or EngineConfig()
        self.clock = clock
        self.migrations = migrations or Migrations()
        self.dispatcher = Dispatcher(
            registry,
            services=services,
            history_limit=self.config.max_history_messages,
            rollback=False,  # a failed event reloads the stored session instead (no copies)
        )
        self._cache = SessionCache(self.config.session_cache_size)
        self._expiry = Expiry(self)
        self._delivery = Delivery(store)
        self._running = False
        self._cleanup: asyncio.Task[None] | None = None
        self._orphans: asyncio.Task[None] | None = None
        # applied: events committed; duplicates: already-applied events discarded;
        # duplicate_submits: submits refused because the same event was still pending;
        # failed: events left in the inbox after bounded stale retries.
        self.counters = {
            "applied": 0,
            "duplicates": 0,
            "duplicate_submits": 0,
            "failed": 0,
            "stale_retries": 0,
        }
        self._applier = Applier(
            store,
            self.dispatcher,
            cache=self._cache,
            delivery=self._delivery,
            expiry=self._expiry,
            migrations=self.migrations,
            clock=clock,
            max_commit_retries=self.config.max_commit_retries,
            counters=self.counters,
        )
        # A store several processes share (Redis) has leases: each key's turn takes the key's
        # lease and applies its pending entries as the store has them (engine/turns.py).
        self._leases: Leases | None = None
        self._turns: SharedTurns | None = None
        lease_store = store.leases()
        if lease_store is not None:
            self._leases = Leases(lease_store, ttl_seconds=self.config.lease_seconds)
            self._turns = SharedTurns(self._leases, self._applier, self._cache, self.counters)
            self._delivery.shared = True
        run_entry = self._applier.apply if self._turns is None else self._turns.entry
        self._keys = KeyedRunner(run_entry, retry_delays=self.config.retry_delays)

    @property
    def observe(self) -> Observer | None:
        """Optional observer for metrics: called with ("applied", seconds) after each commit,
        ("duplicate", 0.0) for each redelivered event and, with a shared store, ("lease_lost"
        | "lease_elsewhere" | "lease_takeover", count); must be cheap and never raise."""
        return self._applier.observe

    @observe.setter
    def observe(self, fn: Observer | None) -> None:
        self._applier.observe = fn

    # wiring ---------------------------------------------------------------------------------
    def set_deliverer(self, fn: Deliverer) -> None:
        """The channel's send function (see :mod:`statbot.engine.delivery`); set before
        start() so that replies left over from the last run are re-sent."""
        self._delivery.deliverer = fn

    def add_forget_hook(self, fn: ForgetHook) -> None:
        self._expiry.forget_hooks.append(fn)

    def add_session_deleted_hook(self, fn: SessionDeletedHook) -> None:
        self._expiry.deleted_hooks.append(fn)

    def add_gate(self, gate: Gate) -> None:
        """A check before each event reaches the conversation (:mod:`statbot.engine.gate`)."""
        self.dispatcher.gates.append(gate)

    def set_permissions(self, permissions: Permissions) -> None:
        """What each user may start: the command lists and ``ctx.switch`` follow it."""
        self.dispatcher.permissions = permissions

    # lifecycle ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    async def start(self) -> None:
        """Replay the inbox, re-send the outbox, start the cleanup loop. Idempotent."""
        if self._running:
            return
        await self.store.open()
        self._running = True
        if self._leases is not None:
            self._leases.start()
        if self._delivery.deliverer is not None:
            pending = await self.store.outbox_pending(limit=100_000)
            for key in sorted({item.key for item in pending}):
                self._delivery.undelivered.add(key)
                # Queued now, ahead of the replays: old replies go out before new ones, and
                # drain() waits for them.
                self._keys.post(key, partial(self._redeliver, key)).add_done_callback(_log_failure)
        await self._replay_inbox()
        self._cleanup = asyncio.create_task(self._cleanup_loop(), name="statbot-cleanup")
        if self._turns is not None:
            orphans = self._turns.orphan_loop(self._replay_inbox)
            self._orphans = asyncio.create_task(orphans, name="statbot-orphans")
        log.info("engine started on %s store; %d key(s) busy", self.store.name, len(self._keys))

    async def stop(self, timeout: float = 10) -> None:  # noqa: ASYNC109 - the app passes its grace
        """Stop taking events, finish in-flight ones within ``timeout``, stop the loop."""
        if not self._running:
            return
        self._running = False
        for task in (self._cleanup, self._orphans):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._cleanup = self._orphans = None
        try:
            await asyncio.wait_for(self._keys.drain(), timeout)
        except TimeoutError:
            log.warning("engine stop: work still running after %.1f s; left in the inbox", timeout)
            await self._keys.cancel()
        if self._leases is not None:
            await self._leases.stop()  # the others need not wait for them to expire
        log.info("engine stopped")

    async def __aenter__(self) -> StateManager:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # events ---------------------------------------------------------------------------------
    async def submit(self, event: Event) -> bool:
        """Journal ``event`` (durable when this returns) and schedule it. False: a duplicate of
        an entry still pending (nothing new to do; the channel may acknowledge either way)."""
        if not self._running:
            raise SessionError("the engine is not running; start() it before submitting")
        key = str(event.key)
        ticket = self._keys.begin_append(key)
        entry: InboxEntry | None = None
        try:
            seq = await self.store.inbox_append(event)
            if seq is not None:
                entry = InboxEntry(seq, key, event.event_id, event)
        finally:
            self._keys.end_append(key, ticket, entry)
        if entry is None:
            self.counters["duplicate_submits"] += 1
        return entry is not None

    async def submit_many(self, events: Iterable[Event]) -> list[bool]:
        return list(await asyncio.gather(*(self.submit(e) for e in events)))

    async def drain(self) -> None:
        """Wait until the engine is idle: every event submitted so far applied (committed) and
        its replies handed to the deliverer once (what it did not accept stays pending). For
        tests and shutdown; under a steady stream of new events it need not return."""
        await self._keys.drain()

    # expiry and forgetting ------------------------------------------------------------------
    async def sweep(self, now: float | None = None) -> dict[str, int]:
        """One expiry pass: idle ACTIVE -> GRACE, GRACE past ``grace_until`` -> deleted."""
        return await self._expiry.sweep(self.clock() if now is None else now)

    async def forget(self, user_id: int) -> int:
        """Delete every session of ``user_id`` (each in its key's turn) and run the hooks."""
        count = await self._expiry.forget_user(user_id)
        log.info("forgot user %d: %d session(s)", user_id, count)
        return count

    def forget_cached(self, key: ConversationKey, *, deleted: bool = False) -> None:
        """Drop the in-memory copy of ``key``'s session (someone else is about to change it);
        ``deleted``: the session and its outbox are gone, forget its delivery state too."""
        self._cache.drop(str(key))
        if deleted:
            self._delivery.undelivered.discard(str(key))

    async def on_key(self, key: ConversationKey, op: Callable[[], Awaitable[T]]) -> T:
        """Run ``op()`` in ``key``'s turn, serialised with that key's events (with a shared
        store: while holding its lease; KeyBusyError if another process holds it)."""
        return await self._keys.call(str(key), partial(self._in_turn, str(key), op))

    async def _in_turn(self, key: str, op: Callable[[], Awaitable[T]]) -> T:
        if self._turns is None:
            return await op()
        ran, result = await self._turns.turn(key, op)
        if not ran:
            raise KeyBusyError(f"{key} is being applied by another process")
        return result  # type: ignore[no-any-return]

    async def stats(self) -> dict[str, int]:
        counts = (await self.store.counts()).as_dict()
        counts.update(self.counters)
        counts["busy_keys"] = len(self._keys)
        counts["cached_sessions"] = len(self._cache)
        counts["undelivered_keys"] = len(self._delivery.undelivered)
        return counts

    # delivery -------------------------------------------------------------------------------
    async def _redeliver(self, key: str) -> None:
        if self._turns is None:
            await self._delivery.deliver(key)
        else:  # under the key's lease; if another process holds it, its turn delivers
            await self._turns.turn(key, partial(self._delivery.deliver, key))

    async def _replay_inbox(self) -> int:
        """Schedule every inbox entry not already queued here; returns how many were new.
        Shared store: a turn for every key whose entries nobody holds a lease on."""
        if self._leases is not None:
            keys = [key for key in await self._leases.orphans() if not self._keys.busy(key)]
            for key in keys:
                # Its replies left undelivered first, then its pending entries (one turn).
                self._keys.post(key, partial(self._redeliver, key)).add_done_callback(_log_failure)
            return len(keys)
        scheduled = 0
        after = 0
        while True:
            entries = await self.store.inbox_pending(limit=1000, after_seq=after)
            scheduled += sum(1 for entry in entries if self._keys.schedule(entry))
            if len(entries) < 1000:
                return scheduled
            after = entries[-1].seq

    async def _cleanup_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.cleanup_interval_seconds)
            try:
                await self.sweep()
                await self.retry_deliveries()
                # Entries left behind (a store outage outlasted the retries, or a submit was
                # cancelled after its append landed) are picked up again; dedupe makes a
                # second scheduling harmless.
                if replayed := await self._replay_inbox():
                    log.warning("re-scheduled %d inbox entr(ies) left behind", replayed)
            except Exception:
                log.exception("cleanup pass failed; will retry")

    async def retry_deliveries(self) -> int:
        """Re-send what earlier deliveries left behind (each key in its turn); returns the
        number of keys tried. Also run by the cleanup loop."""
        keys = sorted(self._delivery.undelivered)
        await asyncio.gather(*(self._keys.call(key, partial(self._redeliver, key)) for key in keys))
        return len(keys)


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background delivery failed", exc_info=task.exception())
