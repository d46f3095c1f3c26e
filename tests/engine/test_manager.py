"""StateManager on the memory store: journaling, ordering, dedupe, delivery, expiry, forget."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

import pytest

from statbot.engine import (
    Context,
    ConversationKey,
    EngineConfig,
    Event,
    EventKind,
    Migrations,
    OutboxItem,
    SessionStatus,
    State,
    StateManager,
    Workflow,
    WorkflowRegistry,
)
from statbot.engine.errors import StaleVersionError
from statbot.engine.stores.memory import MemoryStore
from statbot.errors import SessionError

A = ConversationKey("test", 1, 1)
B = ConversationKey("test", 2, 2)


class Outbox:
    """A channel's send function: records what it delivered per key; can be told to fail."""

    def __init__(self) -> None:
        self.sent: dict[str, list[str]] = defaultdict(list)
        self.fail = False
        self.limit: int | None = None

    async def __call__(self, key: str, items: list[OutboxItem]) -> list[int]:
        if self.fail:
            raise ConnectionError("network down")
        chosen = items if self.limit is None else items[: self.limit]
        self.sent[key].extend(i.reply.text for i in chosen)
        return [i.seq for i in chosen]


def text(key: ConversationKey, update_id: int, body: str) -> Event:
    return Event.from_update(key, update_id, EventKind.TEXT, text=body)


def cmd(key: ConversationKey, update_id: int, name: str) -> Event:
    return Event.from_update(key, update_id, EventKind.COMMAND, text=name)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
async def manager(store, registry, outbox):
    m = StateManager(store, registry)
    m.set_deliverer(outbox)
    async with m:
        yield m


async def test_events_are_applied_committed_and_delivered_in_order(manager, store, outbox):
    assert await manager.submit(cmd(A, 1, "count"))
    for i in range(2, 7):
        assert await manager.submit(text(A, i, f"m{i}"))
    await manager.drain()
    session = await store.load(A)
    assert session.data["seen"] == ["m2", "m3", "m4", "m5", "m6"]
    assert session.version == 6 and session.last_update_id == 6
    assert outbox.sent[str(A)] == ["Say things."] + [f"got m{i}" for i in range(2, 7)]
    stats = await manager.stats()
    assert stats["inbox"] == 0 and stats["outbox"] == 0 and stats["applied"] == 6
    assert stats["in_workflow"] == 1 and stats["busy_keys"] == 0


async def test_concurrent_submits_of_one_key_keep_inbox_order(manager, store):
    await manager.submit(cmd(A, 1, "count"))
    results = await manager.submit_many(text(A, i, f"m{i}") for i in range(2, 40))
    assert all(results)
    await manager.drain()
    session = await store.load(A)
    assert session.data["seen"] == [f"m{i}" for i in range(2, 40)]


class LaggingAppendStore(MemoryStore):
    """Journals at once but returns late, earlier calls later: appends finish out of order."""

    def __init__(self) -> None:
        super().__init__()
        self.lag = 0

    async def inbox_append(self, event):
        seq = await super().inbox_append(event)
        self.lag -= 1
        for _ in range(max(self.lag, 0)):
            await asyncio.sleep(0)
        return seq


async def test_appends_finishing_out_of_order_still_apply_in_inbox_order(registry):
    store = LaggingAppendStore()
    m = StateManager(store, registry)
    async with m:
        await m.submit(cmd(A, 1, "count"))
        store.lag = 40
        await m.submit_many(text(A, i, f"m{i}") for i in range(2, 30))
        await m.drain()
    entries_order = [f"m{i}" for i in range(2, 30)]
    assert (await store.load(A)).data["seen"] == entries_order


async def test_duplicate_pending_submit_returns_false(store):
    release = asyncio.Event()

    async def wait(ctx: Context) -> None:
        await release.wait()
        ctx.reply("done")

    wf = Workflow("w", "w", "w", "s", (State("s", prompt="go", on_event=wait, final=True),))
    m = StateManager(store, WorkflowRegistry([wf]))
    async with m:
        assert await m.submit(cmd(A, 1, "w"))
        assert await m.submit(text(A, 2, "x"))
        await asyncio.sleep(0.05)  # u2 is being applied, still pending in the inbox
        assert await m.submit(text(A, 2, "x")) is False
        release.set()
        await m.drain()
        assert (await store.load(A)).version == 2
        stats = await m.stats()
        assert stats["duplicate_submits"] == 1 and stats["duplicates"] == 0


async def test_redelivered_update_is_not_applied_twice_and_replies_resent(manager, store, outbox):
    await manager.submit(cmd(A, 1, "count"))
    await manager.submit(text(A, 2, "hello"))
    await manager.drain()
    outbox.limit = 0  # the channel cannot send right now
    await manager.submit(text(A, 3, "again"))
    await manager.drain()
    assert len(await store.outbox_pending(str(A))) == 1
    outbox.limit = None
    assert await manager.submit(text(A, 2, "hello"))  # Telegram re-sent an applied update
    await manager.drain()
    session = await store.load(A)
    assert session.data["seen"] == ["hello", "again"] and session.version == 3
    assert outbox.sent[str(A)][-1] == "got again"  # the pending reply went out on the dup
    assert (await manager.stats())["duplicates"] == 1
    assert await store.inbox_pending() == []


async def test_inbox_is_replayed_and_outbox_resent_on_start(store, registry):
    # A previous process journaled events and died before applying them.
    await store.inbox_append(cmd(A, 1, "count"))
    await store.inbox_append(text(A, 2, "one"))
    await store.inbox_append(text(B, 3, "hi"))
    broken = Outbox()
    broken.fail = True
    m1 = StateManager(store, registry)
    m1.set_deliverer(broken)
    async with m1:
        await m1.drain()
    assert (await store.load(A)).data["seen"] == ["one"]
    assert len(await store.outbox_pending()) == 3  # nothing delivered
    good = Outbox()
    m2 = StateManager(store, registry)
    m2.set_deliverer(good)
    async with m2:
        await m2.drain()  # waits for the re-sends queued by start()
        assert good.sent[str(A)] == ["Say things.", "got one"]
    assert "You are not in the middle of anything" in good.sent[str(B)][0]
    assert await store.outbox_pending() == []


async def test_partial_delivery_is_retried_on_next_event(manager, store, outbox):
    outbox.limit = 1
    await manager.submit(cmd(A, 1, "count"))
    await manager.submit(text(A, 2, "x"))
    await manager.drain()
    outbox.limit = None
    await manager.submit(text(A, 3, "y"))
    await manager.drain()
    assert outbox.sent[str(A)] == ["Say things.", "got x", "got y"]


async def test_keys_run_concurrently_and_slots_shrink_to_zero(store):
    release = asyncio.Event()
    entered: list[str] = []

    async def slow(ctx: Context) -> None:
        entered.append(ctx.event.text)
        if ctx.event.text == "block":
            await release.wait()
        ctx.reply("ok")

    wf = Workflow(
        "slow", "slow", "slow", "s", (State("s", prompt="go", on_event=slow, final=True),)
    )
    m = StateManager(store, WorkflowRegistry([wf]))
    async with m:
        await m.submit(cmd(A, 1, "slow"))
        await m.submit(cmd(B, 2, "slow"))
        await m.submit(text(A, 3, "block"))
        await m.submit(text(A, 4, "after"))
        await m.submit(text(B, 5, "free"))
        for _ in range(100):
            if "free" in entered:
                break
            await asyncio.sleep(0.01)
        assert entered == ["block", "free"]  # B went on while A was blocked; A's next waits
        assert (await m.stats())["busy_keys"] == 1
        release.set()
        await m.drain()
        assert entered == ["block", "free", "after"]
        assert (await m.stats())["busy_keys"] == 0
        # many distinct keys: nothing kept per key afterwards
        await m.submit_many(
            cmd(ConversationKey("test", 100 + i, 100 + i), 10 + i, "slow") for i in range(200)
        )
        await m.drain()
        assert (await m.stats())["busy_keys"] == 0


class RacingStore(MemoryStore):
    """Another writer commits to the key between our load and our commit, once."""

    def __init__(self) -> None:
        super().__init__()
        self.raced = False

    async def commit(self, session, *, expected_version, **kw):
        if not self.raced and expected_version > 0:
            self.raced = True
            other = await self.load(session.key)
            other.context["intruder"] = True
            await super().commit(other, expected_version=other.version)
        return await super().commit(session, expected_version=expected_version, **kw)


async def test_stale_commit_is_reapplied_on_fresh_state(registry):
    store = RacingStore()
    m = StateManager(store, registry)
    async with m:
        await m.submit(cmd(A, 1, "count"))
        await m.submit(text(A, 2, "x"))
        await m.drain()
    session = await store.load(A)
    assert session.context["intruder"] is True  # the other writer's change survived
    assert session.data["seen"] == ["x"]  # and ours applied once on top of it
    assert session.version == 3
    assert (await m.stats())["stale_retries"] == 1


async def test_stale_commit_gives_up_after_bounded_retries(registry):
    class AlwaysStale(MemoryStore):
        async def commit(self, session, *, expected_version, **kw):
            if expected_version > 0:
                raise StaleVersionError(str(session.key), expected_version, expected_version + 1)
            return await super().commit(session, expected_version=expected_version, **kw)

    store = AlwaysStale()
    m = StateManager(store, registry, config=EngineConfig(max_commit_retries=2))
    async with m:
        await m.submit(cmd(A, 1, "count"))
        await m.submit(text(A, 2, "x"))
        await m.drain()
    assert [e.event_id for e in await store.inbox_pending()] == ["u2"]
    assert (await m.stats())["failed"] == 1


async def test_expiry_grace_resume_and_delete(store, registry, outbox):
    now = [1000.0]
    deleted = []

    async def on_deleted(session):
        deleted.append(str(session.key))

    m = StateManager(store, registry, clock=lambda: now[0], config=EngineConfig())
    m.set_deliverer(outbox)
    m.add_session_deleted_hook(on_deleted)
    async with m:
        await m.submit(cmd(A, 1, "survey"))
        await m.submit(cmd(B, 2, "count"))
        await m.drain()
        now[0] += 59 * 60
        assert await m.sweep() == {"to_grace": 0, "deleted": 0}
        now[0] += 2 * 60
        assert await m.sweep() == {"to_grace": 2, "deleted": 0}
        assert (await m.stats())["in_grace"] == 2
        # A comes back within the grace period
        await m.submit(text(A, 3, "Ada"))
        await m.drain()
        assert outbox.sent[str(A)][-1].startswith("Welcome back")
        session = await store.load(A)
        assert session.status is SessionStatus.ACTIVE and session.state == "name"
        now[0] += 1441 * 60
        assert await m.sweep() == {"to_grace": 1, "deleted": 1}
        assert deleted == [str(B)]
        assert await store.load(B) is None
        assert (await store.load(A)).status is SessionStatus.GRACE


async def test_cleanup_loop_runs_sweeps(store, registry):
    now = [0.0]
    config = EngineConfig(
        session_timeout_minutes=1, grace_period_minutes=0, cleanup_interval_seconds=0.01
    )
    m = StateManager(store, registry, clock=lambda: now[0], config=config)
    async with m:
        await m.submit(cmd(A, 1, "count"))
        await m.drain()
        now[0] = 10_000.0
        for _ in range(200):
            if await store.load(A) is None:
                break
            await asyncio.sleep(0.01)
        assert await store.load(A) is None


async def test_forget_deletes_every_session_of_the_user(manager, store):
    other_chat = ConversationKey("test", 99, A.user_id)
    forgotten: list[int] = []

    async def hook(user_id: int) -> None:
        forgotten.append(user_id)

    manager.add_forget_hook(hook)
    await manager.submit(cmd(A, 1, "count"))
    await manager.submit(cmd(other_chat, 2, "count"))
    await manager.submit(cmd(B, 3, "count"))
    await manager.drain()
    assert await manager.forget(A.user_id) == 2
    assert await store.load(A) is None and await store.load(other_chat) is None
    assert await store.load(B) is not None
    assert forgotten == [A.user_id]


async def test_handler_request_forget_wipes_user_and_restarts_conversation(manager, store, outbox):
    other_chat = ConversationKey("test", 99, A.user_id)
    deleted: list[str] = []

    async def on_deleted(session):
        deleted.append(str(session.key))

    manager.add_session_deleted_hook(on_deleted)
    await manager.submit(cmd(other_chat, 1, "count"))
    await manager.submit(cmd(A, 2, "survey"))
    await manager.submit(text(A, 3, "Ada"))
    await manager.submit(text(A, 4, "red"))
    await manager.submit(text(A, 5, "forget me"))
    await manager.drain()
    assert await store.load(other_chat) is None
    session = await store.load(A)
    assert session.workflow is None and session.data == {} and session.history == []
    assert session.version == 4  # the version chain continues: fenced, not reset
    assert outbox.sent[str(A)][-1] == "Forgetting you."
    assert sorted(deleted) == sorted([str(A), str(other_chat)])
    # the same update again is still recognised as applied
    await manager.submit(text(A, 5, "forget me"))
    await manager.drain()
    assert (await store.load(A)).version == 4


async def test_builtin_forget_command_confirms(manager, store, outbox):
    await manager.submit(cmd(A, 1, "count"))
    await manager.submit(cmd(A, 2, "forget"))
    await manager.drain()
    token = (await store.load(A)).menu
    await manager.submit(
        Event.from_update(A, 3, EventKind.CHOICE, choice="__forget_yes__", token=token)
    )
    await manager.drain()
    assert outbox.sent[str(A)][-1].startswith("Done — I deleted everything")
    assert (await store.load(A)).workflow is None


async def test_schema_migration_runs_on_load(store, registry):
    m0 = StateManager(store, registry)
    async with m0:
        await m0.submit(cmd(A, 1, "count"))
        await m0.drain()
    migrations = Migrations(target=2)

    @migrations.register(1)
    def rename(raw):
        raw["context"]["migrated"] = True
        return raw

    m = StateManager(store, registry, migrations=migrations)
    async with m:
        await m.submit(text(A, 2, "x"))
        await m.drain()
    session = await store.load(A)
    assert session.schema_version == 2 and session.context["migrated"] is True
    assert session.data["seen"] == ["x"] and session.version == 2


async def test_failing_migration_quarantines_instead_of_crashing(store, registry, outbox):
    m0 = StateManager(store, registry)
    async with m0:
        await m0.submit(cmd(A, 1, "count"))
        await m0.drain()
    migrations = Migrations(target=2)
    migrations.add(1, lambda raw: raw["no such key"])
    m = StateManager(store, registry, migrations=migrations)
    m.set_deliverer(outbox)
    async with m:
        await m.submit(text(A, 2, "x"))
        await m.drain()
    assert any("no longer exists" in t for t in outbox.sent[str(A)])
    session = await store.load(A)
    assert session.workflow is None and session.version == 2 and session.schema_version == 2


async def test_stop_with_stuck_handler_leaves_event_in_inbox(store):
    async def stuck(ctx: Context) -> None:
        await asyncio.sleep(3600)

    wf = Workflow("s", "s", "s", "s", (State("s", prompt="go", on_event=stuck, final=True),))
    m = StateManager(store, WorkflowRegistry([wf]))
    await m.start()
    await m.submit(cmd(A, 1, "s"))
    await m.submit(text(A, 2, "hang"))
    started = time.monotonic()
    await m.stop(timeout=0.2)
    assert time.monotonic() - started < 2
    assert [e.event_id for e in await store.inbox_pending()] == ["u2"]
    with pytest.raises(SessionError):
        await m.submit(text(A, 3, "late"))
    await m.stop()  # idempotent


async def test_start_is_idempotent_and_restartable(store, registry, outbox):
    m = StateManager(store, registry)
    m.set_deliverer(outbox)
    await m.start()
    await m.start()
    await m.submit(cmd(A, 1, "count"))
    await m.stop()
    await m.start()
    await m.submit(text(A, 2, "x"))
    await m.drain()
    await m.stop()
    assert outbox.sent[str(A)] == ["Say things.", "got x"]


async def test_from_settings_copies_engine_settings():
    from statbot.config import load_settings

    settings = load_settings(session_timeout_minutes=5, max_history_messages=7)
    config = EngineConfig.from_settings(settings)
    assert config.session_timeout_minutes == 5 and config.max_history_messages == 7
    assert config.grace_period_minutes == settings.grace_period_minutes


async def test_failing_handler_leaves_stored_session_where_it_was(manager, store, outbox):
    await manager.submit(cmd(A, 1, "survey"))
    await manager.submit(text(A, 2, "Ada"))
    await manager.submit(text(A, 3, "red"))
    await manager.drain()
    before = await store.load(A)
    await manager.submit(text(A, 4, "boom"))
    await manager.drain()
    after = await store.load(A)
    assert "something went wrong" in outbox.sent[str(A)][-1]
    assert (after.state, after.data, after.stack) == (before.state, before.data, before.stack)
    assert after.version == before.version + 1 and after.last_update_id == 4
    assert after.history[-2]["text"] == "boom"
    await manager.submit(text(A, 5, "yes"))
    await manager.drain()
    assert outbox.sent[str(A)][-1] == "Saved."
    assert (await store.load(A)).context["saved"] == [{"name": "Ada", "colour": "red"}]


async def test_non_json_data_from_a_handler_is_a_handler_failure(store, outbox):
    async def bad(ctx: Context) -> None:
        ctx.data["oops"] = {1, 2}  # a set: not JSON
        ctx.reply("stored")

    wf = Workflow("b", "b", "b", "s", (State("s", prompt="go", on_event=bad, final=True),))
    m = StateManager(store, WorkflowRegistry([wf]))
    m.set_deliverer(outbox)
    async with m:
        await m.submit(cmd(A, 1, "b"))
        await m.submit(text(A, 2, "x"))
        await m.submit(text(A, 3, "y"))
        await m.drain()
    assert await store.inbox_pending() == []
    session = await store.load(A)
    assert "oops" not in session.data and session.last_update_id == 3


class FlakyStore(MemoryStore):
    """The store is down for the first ``failures`` commits."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def commit(self, session, **kw):
        if self.failures > 0 and kw.get("event_id", "").startswith("u"):
            self.failures -= 1
            raise SessionError("database is locked")
        return await super().commit(session, **kw)


async def test_store_outage_is_retried_in_order(registry, outbox):
    store = FlakyStore(failures=3)
    config = EngineConfig(retry_delays=(0.0, 0.01, 0.01, 0.01))
    m = StateManager(store, registry, config=config)
    m.set_deliverer(outbox)
    async with m:
        await m.submit(cmd(A, 1, "count"))
        await m.submit(text(A, 2, "a"))
        await m.submit(text(A, 3, "b"))
        await m.drain()
    assert (await store.load(A)).data["seen"] == ["a", "b"]
    assert outbox.sent[str(A)] == ["Say things.", "got a", "got b"]


async def test_long_outage_leaves_entry_for_next_start(registry, outbox):
    store = FlakyStore(failures=3)
    config = EngineConfig(retry_delays=(0.0,))
    m = StateManager(store, registry, config=config)
    async with m:
        await m.submit(cmd(A, 1, "count"))
        await m.drain()
    assert [e.event_id for e in await store.inbox_pending()] == ["u1"]
    m2 = StateManager(store, registry, config=config)
    m2.set_deliverer(outbox)
    async with m2:  # store still failing once more, then fine
        await m2.drain()
    assert await store.inbox_pending() == []
    assert outbox.sent[str(A)] == ["Say things."]


async def test_failed_deliveries_are_retried_by_retry_deliveries(manager, store, outbox):
    outbox.fail = True
    await manager.submit(cmd(A, 1, "count"))
    await manager.drain()
    assert outbox.sent[str(A)] == []
    outbox.fail = False
    assert await manager.retry_deliveries() == 1
    assert outbox.sent[str(A)] == ["Say things."]
    assert await manager.retry_deliveries() == 0


async def test_session_cache_is_bounded_and_a_foreign_write_is_fenced(store, registry):
    m = StateManager(store, registry, config=EngineConfig(session_cache_size=5))
    async with m:
        await m.submit_many(
            cmd(ConversationKey("test", 500 + i, 500 + i), 100 + i, "count") for i in range(20)
        )
        await m.drain()
        assert (await m.stats())["cached_sessions"] == 5
        # another writer (e.g. a second replica) commits behind the cache's back
        key = ConversationKey("test", 519, 519)
        other = await store.load(key)
        other.context["other"] = 1
        await store.commit(other, expected_version=other.version)
        await m.submit(text(key, 200, "hi"))
        await m.drain()
    session = await store.load(key)
    assert session.context["other"] == 1 and session.data["seen"] == ["hi"]
    assert (await m.stats())["stale_retries"] == 1


async def test_submit_in_flight_during_a_timed_out_stop_stays_journaled(registry):
    gate = asyncio.Event()

    class SlowAppend(MemoryStore):
        async def inbox_append(self, event):
            seq = await super().inbox_append(event)
            await gate.wait()
            return seq

    store = SlowAppend()
    m = StateManager(store, registry)
    await m.start()
    pending = asyncio.create_task(m.submit(cmd(A, 1, "count")))
    await asyncio.sleep(0.01)
    await m.stop(timeout=0.01)  # the append is still in flight
    gate.set()
    assert await pending is True  # journaled: it will be applied after a restart
    assert [e.event_id for e in await store.inbox_pending()] == ["u1"]
    m2 = StateManager(store, registry)
    async with m2:
        await m2.drain()
    assert (await store.load(A)).workflow == "counter"


async def test_cleanup_loop_picks_up_entries_left_behind(registry, outbox):
    store = FlakyStore(failures=3)
    config = EngineConfig(retry_delays=(0.0,), cleanup_interval_seconds=0.02)
    m = StateManager(store, registry, config=config)
    m.set_deliverer(outbox)
    async with m:
        await m.submit(cmd(A, 1, "count"))
        for _ in range(300):
            if outbox.sent[str(A)]:
                break
            await asyncio.sleep(0.01)
    assert outbox.sent[str(A)] == ["Say things."]
    assert await store.inbox_pending() == []


async def test_update_ids_that_restart_lower_are_applied_not_dropped(
    manager, store, outbox, caplog
):
    """Issue 9: Telegram may restart update ids at a random value (and a local Bot API server
    at 1); dedupe is by membership in the recent window, never by 'id <= highest seen'."""
    await manager.submit(cmd(A, 1000, "count"))
    for i in range(1001, 1101):  # more than the window
        await manager.submit(text(A, i, f"m{i}"))
    await manager.drain()
    await manager.submit(text(A, 7, "after the restart"))
    await manager.drain()
    assert outbox.sent[str(A)][-1] == "got after the restart"
    session = await store.load(A)
    assert session.last_update_id == 7
    caplog.set_level("WARNING", logger="statbot.engine.manager")
    await manager.submit(text(A, 1090, "a late copy"))  # inside the window: a duplicate
    await manager.drain()
    assert outbox.sent[str(A)][-1] == "got after the restart"
    dropped = [r for r in caplog.records if "duplicate" in r.getMessage()]
    assert len(dropped) == 1 and dropped[0].levelname == "WARNING"
    assert "u1090" in dropped[0].getMessage() and "a late copy" not in dropped[0].getMessage()


def test_each_source_keeps_its_own_dedupe_window():
    from statbot.engine.session import DEDUPE_WINDOW, Session

    session = Session(A)
    session.mark_applied("u5", 5)
    for n in range(DEDUPE_WINDOW * 3):  # a chatty job
        session.mark_applied(f"jjob1:1.{n}", None)
    assert session.has_applied("u5", 5)
    assert session.has_applied(f"jjob1:1.{DEDUPE_WINDOW * 3 - 1}", None)
    assert not session.has_applied("jjob1:1.0", None)
    assert sum(1 for e in session.recent_events if e.startswith("j")) == DEDUPE_WINDOW
    assert not session.has_applied("u4", 4)  # below the last id but never seen: new
