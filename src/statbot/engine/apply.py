"""Applying ONE journaled event to its conversation: load, dedupe, dispatch, commit, deliver.

:class:`Applier` is what the :class:`~statbot.engine.manager.StateManager` runs in a key's turn
for each inbox entry (the manager owns the turns, the lifecycle and the background work):

take the key's session from the bounded cache (or load it, migrating an old schema) → dedupe
(already applied: drop the entry, re-send pending replies) → dispatch → one fenced
``store.commit`` of session + replies + applied id + inbox consumption. A StaleVersionError
(someone else committed: another replica, a sweep) re-applies on a fresh load, a bounded number
of times. A failing handler never moves the session: the stored one is reloaded and only the
input and an apology are recorded. After the commit the key's undelivered replies are handed to
the deliverer (:mod:`statbot.engine.delivery`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from statbot.engine.cache import SessionCache
from statbot.engine.delivery import Delivery
from statbot.engine.dispatch import Dispatcher, Outcome
from statbot.engine.errors import DamagedSessionError, RetryLater, StaleVersionError
from statbot.engine.events import ConversationKey, Event, EventKind
from statbot.engine.expiry import Expiry
from statbot.engine.migrations import Migrations
from statbot.engine.replies import OutboxItem, Reply
from statbot.engine.session import Session
from statbot.engine.stores.base import Fence, InboxEntry, SessionStore
from statbot.engine.texts import SESSION_DAMAGED, SOMETHING_WENT_WRONG

# The manager's logger, as before this module was split out of it (log filters keep working).
log = logging.getLogger("statbot.engine.manager")

# A workflow name no registry has: a session that cannot be migrated is quarantined through it.
_UNMIGRATABLE = "__unmigratable__"

Observer = Callable[[str, float], None]


class Applier:
    """Applies inbox entries; counts into the manager's ``counters``, reports to ``observe``."""

    def __init__(
        self,
        store: SessionStore,
        dispatcher: Dispatcher,
        *,
        cache: SessionCache,
        delivery: Delivery,
        expiry: Expiry,
        migrations: Migrations,
        clock: Callable[[], float],
        max_commit_retries: int,
        counters: dict[str, int],
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.cache = cache
        self.delivery = delivery
        self.expiry = expiry
        self.migrations = migrations
        self.clock = clock
        self.max_commit_retries = max_commit_retries
        self.counters = counters
        self.observe: Observer | None = None
        # Keys whose record was unreadable and set aside: their next reply says so, once.
        self._damaged: set[str] = set()

    async def apply(self, entry: InboxEntry, *, fence: Fence | None = None) -> None:
        """``fence``: the key's lease (shared store, :mod:`statbot.engine.turns`); the commit is
        refused with LeaseLostError once another process holds it."""
        event = entry.event
        started = time.perf_counter()
        for attempt in range(self.max_commit_retries + 1):
            cached = self.cache.take(entry.key) if attempt == 0 else None
            session = cached if cached is not None else await self.load(event.key)
            if session.has_applied(event.event_id, event.update_id):
                # Never silent: a user whose message is dropped here gets no answer (issue 9).
                log.warning(
                    "dropped %s for %s as a duplicate: it was applied already",
                    event.event_id,
                    entry.key,
                )
                self.cache.put(session)
                await self.store.inbox_discard(entry.seq)
                self.counters["duplicates"] += 1
                if self.observe is not None:
                    self.observe("duplicate", 0.0)
                await self.delivery.deliver(entry.key)
                return
            expected = session.version
            outcome = await self._dispatch(session, event)
            if entry.key in self._damaged:
                outcome.replies.insert(0, Reply.say(SESSION_DAMAGED))
            session = outcome.session
            try:
                if outcome.forget:
                    session = await self.expiry.forget_from_handler(session, event.key.user_id)
                try:
                    items = await self._commit(session, outcome.replies, expected, entry, fence)
                except (TypeError, ValueError):
                    # A handler left something that is not JSON in the session: its failure.
                    log.exception(
                        "session %s is not serialisable after %s", entry.key, entry.event_id
                    )
                    failed = self.dispatcher.record_failure(
                        await self.load(event.key), event, [Reply.say(SOMETHING_WENT_WRONG)]
                    )
                    session = failed.session
                    items = await self._commit(session, failed.replies, expected, entry, fence)
            except StaleVersionError as exc:
                self.counters["stale_retries"] += 1
                log.info("re-applying %s on fresh state: %s", event.event_id, exc)
                continue
            self.counters["applied"] += 1
            self._damaged.discard(entry.key)
            if self.observe is not None:
                self.observe("applied", time.perf_counter() - started)
            self.cache.put(session)
            await self.delivery.deliver(entry.key, items)
            return
        self.counters["failed"] += 1
        log.error(
            "gave up applying %s to %s after %d stale commits; left in the inbox",
            event.event_id,
            entry.key,
            self.max_commit_retries + 1,
        )

    async def load(self, key: ConversationKey) -> Session:
        """The stored session at the current schema (a new one if there is none, or if the
        stored record cannot be read: that one is quarantined and the user starts afresh)."""
        try:
            session = await self.store.load(key)
        except DamagedSessionError as exc:
            return await self._set_aside(key, exc.version, exc.body, exc.reason)
        if session is None:
            now = self.clock()
            return Session(key=key, created_at=now, updated_at=now)
        if session.schema_version > self.migrations.target:
            reason = f"schema {session.schema_version} is newer than {self.migrations.target}"
            body = json.dumps(session.to_dict())  # what this version could read of it
            return await self._set_aside(key, session.version, body, reason)
        if self.migrations.needed(session):
            try:
                return self.migrations.apply(session)
            except Exception:
                log.exception("session %s cannot be migrated; quarantined", key)
                return Session(
                    key=key,
                    workflow=_UNMIGRATABLE,
                    version=session.version,
                    schema_version=self.migrations.target,
                )
        return session

    async def _commit(
        self,
        session: Session,
        replies: list[Reply],
        expected: int,
        entry: InboxEntry,
        fence: Fence | None,
    ) -> list[OutboxItem]:
        event = entry.event
        session.mark_applied(event.event_id, event.update_id)
        if event.kind is not EventKind.NOTICE or session.version == 0:
            # A broadcast is not the user's activity: it must not keep an idle session alive.
            session.updated_at = self.clock()
        # Only a shared store is handed a fence: a store with no leases need not know the word.
        fenced = {} if fence is None else {"fence": fence}
        return await self.store.commit(
            session,
            expected_version=expected,
            replies=replies,
            event_id=event.event_id,
            inbox_seq=entry.seq,
            **fenced,
        )

    async def _dispatch(self, session: Session, event: Event) -> Outcome:
        try:
            outcome = await self.dispatcher.apply(session, event)
        except RetryLater:
            raise  # not consumed, nothing committed: KeyedRunner retries, the inbox keeps it
        except Exception:
            # A bug in routing (handler errors are handled inside): answer and consume the
            # event on the stored state rather than failing it forever at every restart.
            log.exception("dispatching %s for %s failed", event.event_id, event.key)
            replies = [Reply.say(SOMETHING_WENT_WRONG)]
        else:
            if not outcome.dirty:
                return outcome
            replies = outcome.replies
        # The session object was changed by a handler that then failed: start again from the
        # stored state (the failed event does not move the conversation).
        fresh = await self.load(event.key)
        return self.dispatcher.record_failure(fresh, event, replies)

    async def _set_aside(
        self, key: ConversationKey, version: int, body: str, reason: str
    ) -> Session:
        """Quarantine an unreadable record (kept for the operator, counted, logged once) and
        give the user a fresh session at the stored version, so the next commit replaces it."""
        name = str(key)
        if name not in self._damaged:
            await self.store.quarantine(name, body, reason, self.clock())
            self.counters["quarantined"] = self.counters.get("quarantined", 0) + 1
            log.error("session %s cannot be read (%s); quarantined, starting afresh", name, reason)
            if self.observe is not None:
                self.observe("quarantined", 0.0)
            self._damaged.add(name)
        now = self.clock()
        return Session(key=key, version=version, created_at=now, updated_at=now)
