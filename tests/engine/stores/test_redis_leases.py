"""Per-conversation leases on a real redis-server: several engines share one store in order.

Two StateManagers on one Redis prefix stand in for two replicas (a process each in
tests/scale/); a stalled replica is one whose lease renewal stops while its handler hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest

from statbot.engine import (
    Context,
    ConversationKey,
    Event,
    EventKind,
    State,
    StateManager,
    Workflow,
    WorkflowRegistry,
)
from statbot.engine.errors import LeaseLostError
from statbot.engine.options import EngineConfig
from statbot.engine.replies import OutboxItem
from statbot.engine.session import Session
from statbot.engine.stores.base import Fence
from statbot.engine.stores.redis import RedisStore


class SharedOutbox:
    """One channel for both engines: what reached each chat, in the order it was sent."""

    def __init__(self) -> None:
        self.sent: dict[str, list[str]] = defaultdict(list)

    async def __call__(self, key: str, items: list[OutboxItem]) -> list[int]:
        self.sent[key].extend(i.reply.text or "" for i in items)
        return [i.seq for i in items]


async def _log(ctx: Context) -> None:
    stall: asyncio.Event | None = (ctx.services or {}).get("stall")
    if stall is not None and ctx.event.text == "stall":
        await stall.wait()
    ctx.data.setdefault("seen", []).append(ctx.event.text)
    ctx.reply(f"got {ctx.event.text}")


def registry() -> WorkflowRegistry:
    state = State("logging", prompt="Say things.", on_event=_log, final=True)
    return WorkflowRegistry([Workflow("log", "log", "log what you say", "logging", (state,))])


def text(key: ConversationKey, update_id: int, body: str) -> Event:
    return Event.from_update(key, update_id, EventKind.TEXT, text=body)


@contextlib.asynccontextmanager
async def engine(
    url: str, prefix: str, outbox: SharedOutbox, **services: Any
) -> AsyncIterator[StateManager]:
    """A replica's engine: its own connection to the shared store, closed after it stops."""
    config = EngineConfig(lease_seconds=0.6, retry_delays=(0.05,))
    async with RedisStore(url, prefix=prefix) as store:
        manager = StateManager(store, registry(), config=config, services=services or None)
        manager.set_deliverer(outbox)
        async with manager:
            yield manager


@pytest.fixture
def prefix() -> str:
    return f"lease:{uuid.uuid4().hex[:8]}:"


async def test_a_lease_has_one_owner_and_a_growing_token(redis_url: str, prefix: str) -> None:
    async with RedisStore(redis_url, prefix=prefix) as store:
        leases = store.leases()
        first = await leases.acquire("k", "a", 500)
        assert first is not None and first[1] is True
        assert await leases.acquire("k", "b", 500) is None  # held by a
        again = await leases.acquire("k", "a", 500)
        assert again == (first[0], False)  # re-entrant: the same token
        await asyncio.sleep(0.6)  # a stalls past the lease
        taken = await leases.acquire("k", "b", 500)
        assert taken is not None and taken[0] > first[0]
        stale = Fence("k", "a", first[0], 500)
        assert await leases.renew([stale], 500) == [stale]
        with pytest.raises(LeaseLostError):
            await leases.next_entry(stale, 500)


async def test_a_fenced_commit_is_refused_once_the_lease_is_lost(
    redis_url: str, prefix: str
) -> None:
    key = ConversationKey("tg", 1, 1)
    async with RedisStore(redis_url, prefix=prefix) as store:
        leases = store.leases()
        got = await leases.acquire(str(key), "a", 300)
        assert got is not None
        fence = Fence(str(key), "a", got[0], 300)
        await store.commit(Session(key), expected_version=0, fence=fence)
        await asyncio.sleep(0.4)
        assert await leases.acquire(str(key), "b", 300) is not None
        with pytest.raises(LeaseLostError):
            await store.commit(Session(key), expected_version=1, fence=fence)
        stored = await store.load(key)
        assert stored is not None and stored.version == 1  # nothing written by the refusal


async def test_next_entry_gives_the_lease_up_when_nothing_is_pending(
    redis_url: str, prefix: str
) -> None:
    key = ConversationKey("tg", 2, 2)
    async with RedisStore(redis_url, prefix=prefix) as store:
        leases = store.leases()
        second = await store.inbox_append(text(key, 12, "later"))
        first = await store.inbox_append(text(key, 11, "sooner"))  # seq order, not update order
        assert await leases.orphans() == [str(key)]
        got = await leases.acquire(str(key), "a", 1000)
        assert got is not None
        fence = Fence(str(key), "a", got[0], 1000)
        assert await leases.orphans() == []  # held
        entry = await leases.next_entry(fence, 1000)
        assert entry is not None and entry.seq == second
        await store.inbox_discard(entry.seq)
        entry = await leases.next_entry(fence, 1000)
        assert entry is not None and entry.seq == first and entry.event.text == "sooner"
        await store.inbox_discard(entry.seq)
        assert await leases.next_entry(fence, 1000) is None
        assert await leases.acquire(str(key), "b", 1000) is not None  # released


async def test_two_engines_apply_each_chat_once_and_in_order(redis_url: str, prefix: str) -> None:
    outbox = SharedOutbox()
    keys = [ConversationKey("tg", chat, chat) for chat in range(1, 21)]
    async with engine(redis_url, prefix, outbox) as a, engine(redis_url, prefix, outbox) as b:
        for key in keys:
            await a.submit(Event.from_update(key, 1, EventKind.COMMAND, text="log"))
        await asyncio.gather(a.drain(), b.drain())

        async def chat(key: ConversationKey) -> None:
            # A chat's messages arrive one after another (as Telegram delivers them), each at
            # the other replica; the chats run at once.
            for n in range(1, 9):
                await (a if n % 2 else b).submit(text(key, 1 + n, f"m{n}"))

        await asyncio.gather(*(chat(key) for key in keys))
        for _ in range(3):  # what one applied may have been journaled by the other
            await asyncio.gather(a.drain(), b.drain())
        async with RedisStore(redis_url, prefix=prefix) as store:
            for key in keys:
                session = await store.load(key)
                assert session is not None
                assert session.data["seen"] == [f"m{n}" for n in range(1, 9)], key
                replies = [t for t in outbox.sent[str(key)] if t.startswith("got")]
                assert replies == [f"got m{n}" for n in range(1, 9)], key
            assert (await store.counts()).inbox == 0
        assert a.counters["applied"] + b.counters["applied"] == len(keys) * 9


async def test_a_stalled_engine_cannot_commit_after_another_took_its_chat(
    redis_url: str, prefix: str
) -> None:
    outbox = SharedOutbox()
    key = ConversationKey("tg", 7, 7)
    stall = asyncio.Event()
    async with (
        engine(redis_url, prefix, outbox, stall=stall) as a,
        engine(redis_url, prefix, outbox) as b,
    ):
        observed: list[tuple[str, float]] = []
        a.observe = lambda what, value: observed.append((what, value))
        await a.submit(Event.from_update(key, 1, EventKind.COMMAND, text="log"))
        await a.drain()
        assert a._leases is not None and a._leases._renewer is not None
        a._leases._renewer.cancel()  # a "pauses": its leases are no longer renewed
        await a.submit(text(key, 2, "stall"))
        await asyncio.sleep(0.05)  # a's handler now hangs, holding the lease
        await b.submit(text(key, 3, "after"))
        await asyncio.sleep(1.2)  # the lease lapses; b's orphan scan takes the chat over
        await b.drain()
        stall.set()  # a wakes up and tries to commit "stall" with its old token
        await a.drain()
        assert a.counters["leases_lost"] == 1
        assert ("lease_lost", 1.0) in observed  # /metrics: statbot_leases_total{event="lost"}
        async with RedisStore(redis_url, prefix=prefix) as store:
            session = await store.load(key)
            assert session is not None and session.data["seen"] == ["stall", "after"]
            assert (await store.counts()).inbox == 0
        assert outbox.sent[str(key)][-2:] == ["got stall", "got after"]


async def test_replies_a_dead_engine_left_undelivered_are_sent_by_another(
    redis_url: str, prefix: str
) -> None:
    outbox = SharedOutbox()

    async def down(key: str, items: list[OutboxItem]) -> list[int]:
        raise ConnectionError("killed before it could send")

    key = ConversationKey("tg", 9, 9)
    async with engine(redis_url, prefix, outbox) as a, engine(redis_url, prefix, outbox):
        a.set_deliverer(down)  # a commits, then never delivers (it "dies" there)
        await a.submit(Event.from_update(key, 1, EventKind.COMMAND, text="log"))
        await a.submit(text(key, 2, "last words"))
        await a.drain()
        # Nothing new arrives for this chat: only the orphan scan can find its replies.
        for _ in range(40):
            if "got last words" in outbox.sent[str(key)]:
                break
            await asyncio.sleep(0.1)
    assert outbox.sent[str(key)] == ["Say things.", "got last words"]
