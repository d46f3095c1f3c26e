"""Property: whatever the interleaving, duplication and restarts, every update is applied
exactly once, in order per conversation, with no data crossing users and versions that only
go up. Generated schedules run against the memory and the sqlite store."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statbot.engine import (
    Context,
    ConversationKey,
    Event,
    EventKind,
    OutboxItem,
    Reply,
    Session,
    State,
    StateManager,
    Workflow,
    WorkflowRegistry,
)
from statbot.engine.stores.base import InboxEntry, Quarantined, SessionStore, StoreCounts
from statbot.engine.stores.memory import MemoryStore
from statbot.engine.stores.sqlite import SqliteStore


async def _log(ctx: Context) -> None:
    ctx.data.setdefault("seen", []).append(ctx.event.text)
    # Handlers take different times (yield 0-3 times): a second worker on the same key, or a
    # reordering, would let a later event commit first.
    for _ in range((ctx.event.update_id or 0) % 4):
        await asyncio.sleep(0)
    ctx.reply(f"got {ctx.event.text}")


REGISTRY = WorkflowRegistry(
    [Workflow("log", "log", "log messages", "on", (State("on", on_event=_log, final=True),))]
)


class RecordingStore(SessionStore):
    """Delegates to a real store and records every successful commit (key, version, event)."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.name = inner.name
        self.commits: list[tuple[str, int, str]] = []

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def load(self, key: ConversationKey) -> Session | None:
        return await self.inner.load(key)

    async def commit(
        self,
        session: Session,
        *,
        expected_version: int,
        replies: Sequence[Reply] = (),
        event_id: str = "",
        inbox_seq: int | None = None,
    ) -> list[OutboxItem]:
        items = await self.inner.commit(
            session,
            expected_version=expected_version,
            replies=replies,
            event_id=event_id,
            inbox_seq=inbox_seq,
        )
        self.commits.append((str(session.key), session.version, event_id))
        return items

    async def delete(self, key: ConversationKey) -> None:
        await self.inner.delete(key)

    async def inbox_append(self, event: Event) -> int | None:
        return await self.inner.inbox_append(event)

    async def inbox_pending(self, limit: int = 1000, after_seq: int = 0) -> list[InboxEntry]:
        return await self.inner.inbox_pending(limit, after_seq)

    async def inbox_discard(self, seq: int) -> None:
        await self.inner.inbox_discard(seq)

    async def outbox_pending(self, key: str | None = None, limit: int = 1000) -> list[OutboxItem]:
        return await self.inner.outbox_pending(key, limit)

    async def outbox_mark_delivered(self, key: str, seqs: Sequence[int]) -> None:
        await self.inner.outbox_mark_delivered(key, seqs)

    async def idle_since(self, before: float, limit: int = 1000) -> list[ConversationKey]:
        return await self.inner.idle_since(before, limit)

    async def grace_expired(self, now: float, limit: int = 1000) -> list[ConversationKey]:
        return await self.inner.grace_expired(now, limit)

    async def keys_for_user(self, user_id: int) -> list[ConversationKey]:
        return await self.inner.keys_for_user(user_id)

    async def counts(self) -> StoreCounts:
        return await self.inner.counts()

    async def sessions_by_workflow(self, limit: int = 10_000) -> dict[str, int]:
        return await self.inner.sessions_by_workflow(limit)

    async def quarantine(self, key: str, body: str, reason: str, at: float) -> None:
        await self.inner.quarantine(key, body, reason, at)

    async def quarantined(self, limit: int = 100) -> list[Quarantined]:
        return await self.inner.quarantined(limit)


@dataclass(frozen=True)
class Step:
    kind: str  # "batch" (events submitted together), "restart", "crash"
    events: tuple[Event, ...] = ()


@st.composite
def schedules(draw: Any) -> tuple[list[ConversationKey], list[Step]]:
    n_keys = draw(st.integers(1, 4))
    # Two keys may share a user (same person, two chats): still separate conversations.
    keys = [ConversationKey("p", 10 + k, 100 + draw(st.integers(0, 2))) for k in range(n_keys)]
    counts = [draw(st.integers(1, 7)) for _ in keys]
    arrivals = draw(st.permutations([k for k, n in enumerate(counts) for _ in range(n)]))
    update_ids = itertools.count(1)
    started: set[int] = set()
    sent: list[Event] = []
    flat: list[Event | str] = []
    for k in arrivals:
        key = keys[k]
        if k not in started:
            started.add(k)
            flat.append(Event.from_update(key, next(update_ids), EventKind.COMMAND, text="log"))
        uid = next(update_ids)
        flat.append(Event.from_update(key, uid, EventKind.TEXT, text=f"{key.chat_id}:{uid}"))
        sent.append(flat[-1])  # type: ignore[arg-type]
        if draw(st.integers(0, 4)) == 0:  # Telegram re-sends something already sent
            flat.append(draw(st.sampled_from(sent)))
        if draw(st.integers(0, 9)) == 0:
            flat.append(draw(st.sampled_from(["restart", "crash"])))
    steps: list[Step] = []
    batch: list[Event] = []
    for item in flat:
        if isinstance(item, str):
            if batch:
                steps.append(Step("batch", tuple(batch)))
                batch = []
            steps.append(Step(item))
            continue
        batch.append(item)
        if draw(st.booleans()):
            steps.append(Step("batch", tuple(batch)))
            batch = []
    if batch:
        steps.append(Step("batch", tuple(batch)))
    return keys, steps


async def _submit_batch(manager: StateManager, events: Sequence[Event]) -> None:
    """Like a channel: one conversation's updates in order, conversations concurrently."""
    by_key: dict[ConversationKey, list[Event]] = defaultdict(list)
    for event in events:
        by_key[event.key].append(event)

    async def one_key(queue: list[Event]) -> None:
        for event in queue:
            await manager.submit(event)

    await asyncio.gather(*(one_key(q) for q in by_key.values()))


async def run_schedule(inner: SessionStore, keys: list[ConversationKey], steps: list[Step]) -> None:
    store = RecordingStore(inner)
    delivered: dict[str, list[str]] = defaultdict(list)

    async def deliver(key: str, items: list[OutboxItem]) -> list[int]:
        delivered[key].extend(i.reply.text for i in items)
        return [i.seq for i in items]

    def new_manager() -> StateManager:
        m = StateManager(store, REGISTRY)
        m.set_deliverer(deliver)
        return m

    await store.open()
    manager = new_manager()
    await manager.start()
    try:
        for step in steps:
            if step.kind == "batch":
                await _submit_batch(manager, step.events)
            else:
                # restart: drain then stop; crash: stop now, cancelling whatever is in flight.
                await manager.stop(timeout=10 if step.kind == "restart" else 0)
                manager = new_manager()
                await manager.start()
        await manager.drain()
    finally:
        await manager.stop()

    expected: dict[str, list[str]] = defaultdict(list)
    for step in steps:
        for event in step.events:
            if event.kind is EventKind.TEXT and event.text not in expected[str(event.key)]:
                expected[str(event.key)].append(event.text)
    for key in keys:
        session = await store.load(key)
        assert session is not None
        # applied exactly once, in order, and only this conversation's messages
        assert session.data["seen"] == expected[str(key)]
        mine = {f"got {t}" for t in expected[str(key)]}
        got = [t for t in delivered[str(key)] if t.startswith("got ")]
        assert set(got) == mine  # every reply reached its own conversation (at least once)
    # each event committed exactly once per key, versions strictly increasing 1, 2, 3, ...
    per_key: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for key_name, version, event_id in store.commits:
        per_key[key_name].append((version, event_id))
    for key_name, commits in per_key.items():
        # A crash can cancel the await of a commit that still lands (offloaded sqlite), so
        # the record may skip a version; it may never repeat or go back.
        versions = [v for v, _ in commits]
        assert versions == sorted(set(versions)), key_name
        event_ids = [e for _, e in commits]
        assert len(event_ids) == len(set(event_ids)), key_name
    for key in keys:
        # one commit per distinct event of the conversation: the /log command + its texts
        session = await store.load(key)
        assert session is not None
        assert session.version == 1 + len(expected[str(key)])
    assert await store.inbox_pending() == []
    assert await store.outbox_pending() == []
    await store.close()


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(schedules())
def test_exactly_once_in_order_memory(schedule: tuple[list[ConversationKey], list[Step]]):
    keys, steps = schedule
    asyncio.run(run_schedule(MemoryStore(), keys, steps))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(schedules())
@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])
def test_exactly_once_in_order_sqlite(
    tmp_path: Path, synchronous: str, schedule: tuple[list[ConversationKey], list[Step]]
):
    keys, steps = schedule
    path = tmp_path / f"s-{next(_files)}.sqlite3"
    asyncio.run(run_schedule(SqliteStore(path, synchronous=synchronous), keys, steps))


_files = itertools.count()


# --- the dispatcher under arbitrary input ------------------------------------------------------

_USER_INPUT = st.one_of(
    st.tuples(
        st.just("cmd"),
        st.sampled_from(
            ["survey", "review", "count", "start", "help", "cancel", "back", "forget", "nope"]
        ),
    ),
    st.tuples(
        st.just("text"),
        st.sampled_from(["Ada", "red", "blue", "yes", "no", "boom", "bad-goto", "", "forget me"]),
    ),
    st.tuples(
        st.just("choice"),
        st.sampled_from(
            ["red", "blue", "yes", "no", "__continue__", "__start_over__", "__forget_no__", "zzz"]
        ),
    ),
    st.tuples(st.just("stale"), st.sampled_from(["red", "yes"])),
    st.tuples(st.just("grace"), st.just("")),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_USER_INPUT, max_size=30))
def test_dispatcher_keeps_a_consistent_session_whatever_the_user_does(registry, inputs):
    """Fuzz the survey/counter/review workflows of conftest.py with commands, answers, current
    and stale button presses and expiry: no crash, always an answer, a coherent session."""
    import json

    from statbot.engine import Dispatcher, ReplyKind, SessionStatus

    dispatcher = Dispatcher(registry, history_limit=20)
    key = ConversationKey("fuzz", 1, 1)
    session = Session(key)

    async def run() -> None:
        for update_id, (kind, value) in enumerate(inputs, start=1):
            if kind == "grace":
                session.status = SessionStatus.GRACE
                continue
            before = (session.workflow, session.state, json.dumps(session.data), session.menu)
            if kind == "cmd":
                event = Event.from_update(key, update_id, EventKind.COMMAND, text=value)
            elif kind == "text":
                event = Event.from_update(key, update_id, EventKind.TEXT, text=value)
            else:
                token = session.menu if kind == "choice" else "stale!"
                event = Event.from_update(
                    key, update_id, EventKind.CHOICE, choice=value, token=token
                )
            was_grace = session.status is SessionStatus.GRACE
            out = await dispatcher.apply(session, event)
            assert out.replies, (kind, value)  # the user always hears back
            for reply in out.replies:
                if reply.kind is ReplyKind.CHOICES:
                    assert reply.token
            if kind == "stale" and not was_grace:
                assert out.replies[0].text == "This menu is out of date."
                assert (session.workflow, session.state, json.dumps(session.data)) == before[:3]
            if kind == "choice" and out.replies[0].text == "This menu is out of date.":
                assert not session.menu or was_grace  # only when there was no valid menu
            workflow = registry.get(session.workflow)
            if session.workflow is None:
                assert (session.state, session.data, session.stack) == (None, {}, [])
            else:
                assert workflow is not None and session.state in workflow.by_name
                assert session.stack and session.stack[-1]["state"] == session.state
                assert session.menu
            assert len(session.history) <= 20
            json.dumps(session.to_dict())  # always storable

    asyncio.run(run())
