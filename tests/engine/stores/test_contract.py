"""One contract suite, run against every SessionStore backend (memory, sqlite, redis).

The Redis backend runs on the real redis-server started by ``conftest.redis_url``; each test uses
a fresh key prefix. SQLite runs on a file in tmp_path, once inline (NORMAL) and once on its
worker thread (FULL).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from statbot.engine.errors import StaleVersionError
from statbot.engine.events import ConversationKey, Event, EventKind, Upload
from statbot.engine.replies import Option, Reply
from statbot.engine.session import Session, SessionStatus
from statbot.engine.stores.base import SessionStore
from statbot.engine.stores.memory import MemoryStore
from statbot.engine.stores.redis import RedisStore
from statbot.engine.stores.sqlite import SqliteStore

BACKENDS = ["memory", "sqlite", "sqlite-full", "redis"]
NOW = 1_800_000_000.0


@dataclass
class Backend:
    """Opens handles on one backend's data: a second handle sees the same data (reopen)."""

    name: str
    factory: Callable[[], SessionStore]
    opened: list[SessionStore] = field(default_factory=list)

    async def handle(self) -> SessionStore:
        store = self.factory()
        await store.open()
        self.opened.append(store)
        return store


def _factory(
    name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Callable[[], SessionStore]:
    if name == "memory":
        shared = MemoryStore()  # one process, one dict: every "handle" is the same store
        return lambda: shared
    if name.startswith("sqlite"):
        sync = "FULL" if name == "sqlite-full" else "NORMAL"
        return lambda: SqliteStore(tmp_path / "sessions.sqlite3", synchronous=sync)
    url = request.getfixturevalue("redis_url")
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    return lambda: RedisStore(url, prefix=prefix)


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    backend = Backend(request.param, _factory(request.param, tmp_path, request))
    yield backend
    for store in backend.opened:
        await store.close()


@pytest.fixture
async def store(backend: Backend) -> SessionStore:
    return await backend.handle()


def key(chat: int = 1, user: int = 10, channel: str = "tg") -> ConversationKey:
    return ConversationKey(channel, chat, user)


def session(k: ConversationKey, **fields: object) -> Session:
    s = Session(k, created_at=NOW, updated_at=NOW)
    for name, value in fields.items():
        setattr(s, name, value)
    return s


def event(k: ConversationKey, update_id: int, text: str = "hi") -> Event:
    return Event.from_update(k, update_id, EventKind.TEXT, text=text, at=NOW)


async def new(store: SessionStore, k: ConversationKey, **fields: object) -> Session:
    s = session(k, **fields)
    await store.commit(s, expected_version=0)
    return s


class TestSessionStoreContract:
    async def test_commit_creates_then_versions_and_load_round_trips(self, store: SessionStore):
        k = key()
        assert await store.load(k) is None
        s = session(
            k,
            workflow="describe",
            state="pick",
            data={"columns": ["a", "b"], "ratio": 0.25, "name": "ünïcode ✓"},
            history=[{"role": "user", "text": "hello", "at": NOW}],
            datasets=["d1"],
        )
        s.mark_applied("u5", 5)
        await store.commit(s, expected_version=0)
        assert s.version == 1
        loaded = await store.load(k)
        assert loaded is not None and loaded.to_dict() == s.to_dict()

        loaded.state = "confirm"
        loaded.updated_at = NOW + 1
        await store.commit(loaded, expected_version=1)
        again = await store.load(k)
        assert again is not None
        assert (again.version, again.state, again.updated_at) == (2, "confirm", NOW + 1)

    async def test_stale_commit_raises_and_writes_nothing(self, store: SessionStore):
        k = key()
        s = await new(store, k, state="one")
        seq = await store.inbox_append(event(k, 1))
        stale = session(k, state="two")
        with pytest.raises(StaleVersionError) as info:
            await store.commit(
                stale, expected_version=0, replies=[Reply.say("x")], event_id="u1", inbox_seq=seq
            )
        assert (info.value.expected, info.value.actual) == (0, 1)
        assert stale.version == 0  # untouched on failure
        loaded = await store.load(k)
        assert loaded is not None and (loaded.state, loaded.version) == ("one", 1)
        assert await store.outbox_pending(str(k)) == []
        assert [e.seq for e in await store.inbox_pending()] == [seq]
        with pytest.raises(StaleVersionError):  # a version from the future is stale too
            await store.commit(s, expected_version=5)
        with pytest.raises(StaleVersionError):  # a missing session is version 0
            await store.commit(session(key(chat=2)), expected_version=1)
        assert await store.load(key(chat=2)) is None

    async def test_outbox_items_are_ordered_and_tagged_with_their_event(self, store: SessionStore):
        a, b = key(chat=2), key(chat=1)
        ask = Reply.ask("Pick", [Option("1", "one"), Option("2", "two")], multi=True)
        s = session(a)
        first = await store.commit(
            s, expected_version=0, replies=[Reply.say("hi"), ask], event_id="u1"
        )
        second = await store.commit(
            s, expected_version=1, replies=[Reply.say("bye")], event_id="u2"
        )
        await store.commit(session(b), expected_version=0, replies=[Reply.say("b")], event_id="u3")
        assert [(i.seq, i.event_id) for i in first] == [(1, "u1"), (2, "u1")]
        assert [(i.seq, i.event_id) for i in second] == [(3, "u2")]
        pending = await store.outbox_pending(str(a))
        assert pending == [*first, *second]
        assert pending[1].reply == ask and not pending[1].delivered
        everything = await store.outbox_pending()
        assert [(i.key, i.seq) for i in everything] == [
            (str(b), 1), (str(a), 1), (str(a), 2), (str(a), 3)
        ]  # fmt: skip
        assert len(await store.outbox_pending(limit=2)) == 2

    async def test_outbox_mark_delivered_drops_items_and_never_reuses_seqs(
        self, store: SessionStore
    ):
        k = key()
        s = session(k)
        items = await store.commit(
            s, expected_version=0, replies=[Reply.say("1"), Reply.say("2")], event_id="u1"
        )
        await store.outbox_mark_delivered(str(k), [items[0].seq])
        assert [i.seq for i in await store.outbox_pending(str(k))] == [2]
        await store.outbox_mark_delivered(str(k), [2, 99])  # unknown seqs are ignored
        assert await store.outbox_pending(str(k)) == []
        assert await store.outbox_pending() == []
        later = await store.commit(s, expected_version=1, replies=[Reply.say("3")], event_id="u2")
        assert [i.seq for i in later] == [3]
        assert (await store.counts()).outbox == 1

    async def test_inbox_append_dedupes_by_key_and_event_id(self, store: SessionStore):
        a, b = key(chat=1), key(chat=2)
        upload = Upload("data.csv", 1234, file_id="F1", mime_type="text/csv")
        ev = Event.from_update(a, 7, EventKind.UPLOAD, upload=upload, at=NOW)
        seq = await store.inbox_append(ev)
        assert seq is not None
        assert await store.inbox_append(ev) is None
        other = await store.inbox_append(event(b, 7))  # same update id, other conversation
        assert other is not None and other > seq
        pending = await store.inbox_pending()
        assert [(e.seq, e.key, e.event_id) for e in pending] == [
            (seq, str(a), "u7"),
            (other, str(b), "u7"),
        ]
        assert pending[0].event == ev
        # Once consumed, the id is no longer pending: a redelivery is journaled again and the
        # session's own dedupe (recent_events) decides.
        await store.commit(session(a), expected_version=0, inbox_seq=seq)
        again = await store.inbox_append(ev)
        assert again is not None and again > other

    async def test_inbox_pending_order_after_seq_and_limit(self, store: SessionStore):
        seqs = [await store.inbox_append(event(key(chat=c % 3), 100 + c)) for c in range(6)]
        assert all(s is not None for s in seqs) and seqs == sorted(seqs)
        assert [e.seq for e in await store.inbox_pending()] == seqs
        assert [e.seq for e in await store.inbox_pending(after_seq=seqs[2])] == seqs[3:]
        assert [e.seq for e in await store.inbox_pending(limit=2, after_seq=seqs[0])] == seqs[1:3]
        await store.inbox_discard(seqs[1])
        assert [e.seq for e in await store.inbox_pending()] == [seqs[0], *seqs[2:]]

    async def test_commit_consumes_its_inbox_entry_atomically(self, store: SessionStore):
        k = key()
        s1 = await store.inbox_append(event(k, 1))
        s2 = await store.inbox_append(event(k, 2))
        s = session(k)
        s.mark_applied("u1", 1)
        await store.commit(
            s, expected_version=0, replies=[Reply.say("ok")], event_id="u1", inbox_seq=s1
        )
        assert [e.seq for e in await store.inbox_pending()] == [s2]
        assert (await store.counts()).inbox == 1

    async def test_delete_removes_session_outbox_and_inbox_of_that_key_only(
        self, store: SessionStore
    ):
        gone, kept = key(chat=1), key(chat=2)
        for k in (gone, kept):
            await store.commit(
                session(k, workflow="w"), expected_version=0, replies=[Reply.say("x")]
            )
            await store.inbox_append(event(k, 1))
            await store.inbox_append(event(k, 2))
        await store.delete(gone)
        assert await store.load(gone) is None
        assert await store.load(kept) is not None
        assert await store.outbox_pending(str(gone)) == []
        assert {i.key for i in await store.outbox_pending()} == {str(kept)}
        assert {e.key for e in await store.inbox_pending()} == {str(kept)}
        counts = await store.counts()
        assert (counts.sessions, counts.inbox, counts.outbox, counts.in_workflow) == (1, 2, 1, 1)
        await store.delete(gone)  # idempotent
        s = session(gone)
        await store.commit(s, expected_version=0)  # the key starts over at version 1
        assert s.version == 1
        assert await store.inbox_append(event(gone, 1)) is not None

    async def test_expiry_to_grace_to_delete_is_driven_by_stored_data(self, store: SessionStore):
        timeout, grace = 3600.0, 86400.0
        idle = [key(chat=c) for c in range(1, 4)]
        fresh = key(chat=9)
        for i, k in enumerate(idle):
            await new(store, k, updated_at=NOW - timeout - 10 - i)
        await new(store, fresh, updated_at=NOW)
        now = NOW + 1
        found = await store.idle_since(now - timeout)
        assert set(found) == set(idle)
        assert len(await store.idle_since(now - timeout, limit=2)) == 2
        for k in found:  # what the cleanup loop does: move into the grace period
            s = await store.load(k)
            assert s is not None
            s.status = SessionStatus.GRACE
            s.grace_until = now + grace
            await store.commit(s, expected_version=s.version)
        assert await store.idle_since(now - timeout) == []
        assert await store.grace_expired(now) == []
        counts = await store.counts()
        assert (counts.active, counts.in_grace, counts.sessions) == (1, 3, 4)
        # A message inside the grace period resumes one session.
        resumed = await store.load(idle[0])
        assert resumed is not None
        resumed.status, resumed.grace_until, resumed.updated_at = SessionStatus.ACTIVE, None, now
        await store.commit(resumed, expected_version=resumed.version)
        later = now + grace + 1
        expired = await store.grace_expired(later)
        assert set(expired) == set(idle[1:])
        assert len(await store.grace_expired(later, limit=1)) == 1
        for k in expired:
            await store.delete(k)
        assert await store.grace_expired(later) == []
        assert set(await store.idle_since(later)) == {fresh, idle[0]}
        assert (await store.counts()).sessions == 2

    async def test_keys_for_user_and_forget_deletes_all_of_them(self, store: SessionStore):
        mine = [key(chat=5, user=7), key(chat=3, user=7), key(chat=4, user=7, channel="console")]
        theirs = key(chat=5, user=8)
        for k in [*mine, theirs]:
            await store.commit(session(k), expected_version=0, replies=[Reply.say("x")])
            await store.inbox_append(event(k, 1))
        assert await store.keys_for_user(7) == sorted(mine)
        assert await store.keys_for_user(8) == [theirs]
        assert await store.keys_for_user(99) == []
        for k in await store.keys_for_user(7):  # forget(user)
            await store.delete(k)
        assert await store.keys_for_user(7) == []
        assert [i.key for i in await store.outbox_pending()] == [str(theirs)]
        assert [e.key for e in await store.inbox_pending()] == [str(theirs)]
        assert await store.load(theirs) is not None

    async def test_counts(self, store: SessionStore):
        empty = await store.counts()
        assert empty.as_dict() == {
            "sessions": 0, "active": 0, "in_grace": 0, "in_workflow": 0, "inbox": 0, "outbox": 0
        }  # fmt: skip
        await new(store, key(chat=1), workflow="describe")
        await new(store, key(chat=2), status=SessionStatus.GRACE, grace_until=NOW)
        await store.commit(session(key(chat=3)), expected_version=0, replies=[Reply.say("a")] * 3)
        await store.inbox_append(event(key(chat=1), 1))
        counts = await store.counts()
        assert counts.as_dict() == {
            "sessions": 3, "active": 2, "in_grace": 1, "in_workflow": 1, "inbox": 1, "outbox": 3
        }  # fmt: skip

    async def test_sessions_by_workflow(self, store: SessionStore):
        assert await store.sessions_by_workflow() == {}
        await new(store, key(chat=1), workflow="describe")
        await new(store, key(chat=2), workflow="describe")
        await new(store, key(chat=3), workflow="train")
        await new(store, key(chat=4))
        assert await store.sessions_by_workflow() == {"describe": 2, "train": 1}
        assert sum((await store.sessions_by_workflow(limit=2)).values()) == 2

    async def test_quarantine_keeps_unreadable_records_in_order(self, store: SessionStore):
        assert await store.quarantined() == []
        await store.quarantine("tg:1:1", "{not json", "JSONDecodeError", 5.0)
        await store.quarantine("tg:2:2", '{"key":"tg:2:2"}', "newer schema", 6.0)
        found = await store.quarantined()
        assert [(q.key, q.body, q.reason, q.at) for q in found] == [
            ("tg:1:1", "{not json", "JSONDecodeError", 5.0),
            ("tg:2:2", '{"key":"tg:2:2"}', "newer schema", 6.0),
        ]
        assert len(await store.quarantined(limit=1)) == 1

    async def test_concurrent_commits_with_the_same_version_exactly_one_wins(
        self, backend: Backend
    ):
        one, two = await backend.handle(), await backend.handle()
        k = key()
        await new(one, k)
        for version in range(1, 11):
            a, b = await one.load(k), await two.load(k)
            assert a is not None and b is not None and a.version == b.version == version
            a.state, b.state = f"a{version}", f"b{version}"
            results = await asyncio.gather(
                one.commit(a, expected_version=version, replies=[Reply.say(f"a{version}")]),
                two.commit(b, expected_version=version, replies=[Reply.say(f"b{version}")]),
                return_exceptions=True,
            )
            losers = [r for r in results if isinstance(r, StaleVersionError)]
            winners = [r for r in results if isinstance(r, list)]
            assert len(losers) == 1 and len(winners) == 1, results
            stored = await one.load(k)
            assert stored is not None and stored.version == version + 1
            assert [stored.state] == [i.reply.text for i in winners[0]]
        assert len(await one.outbox_pending(str(k))) == 10


@pytest.fixture(params=["sqlite", "redis"])
async def durable(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    backend = Backend(request.param, _factory(request.param, tmp_path, request))
    yield backend
    for store in backend.opened:
        await store.close()


async def test_everything_survives_close_and_reopen(durable: Backend):
    first = await durable.handle()
    k = key()
    s = session(k, workflow="describe", state="pick", data={"x": [1, 2.5, None]})
    await first.commit(
        s, expected_version=0, replies=[Reply.say("a"), Reply.say("b")], event_id="u1"
    )
    seq = await first.inbox_append(event(k, 2))
    await first.outbox_mark_delivered(str(k), [1])
    await first.close()

    second = await durable.handle()  # a new connection / client, as after a restart
    loaded = await second.load(k)
    assert loaded is not None and loaded.to_dict() == s.to_dict()
    assert [(i.seq, i.reply.text) for i in await second.outbox_pending(str(k))] == [(2, "b")]
    assert [e.seq for e in await second.inbox_pending()] == [seq]
    assert await second.inbox_append(event(k, 2)) is None  # still pending: still deduped
    items = await second.commit(loaded, expected_version=1, replies=[Reply.say("c")], inbox_seq=seq)
    assert [i.seq for i in items] == [3]  # seq counters survived too
    assert await second.inbox_pending() == []
    newer = await second.inbox_append(event(k, 3))
    assert newer is not None and seq is not None and newer > seq


async def test_open_store_builds_each_backend_from_its_setting(tmp_path: Path, redis_url: str):
    from statbot.engine.stores import open_store

    assert isinstance(open_store("memory"), MemoryStore)
    sqlite = open_store("sqlite", sqlite_path=str(tmp_path / "x.sqlite3"), synchronous="FULL")
    assert isinstance(sqlite, SqliteStore) and sqlite.synchronous == "FULL" and sqlite.offload
    redis = open_store(redis_url, session_ttl_seconds=90.0)
    assert isinstance(redis, RedisStore) and redis.ttl_ms == 90_000
    async with redis:
        assert (await redis.counts()).sessions >= 0
