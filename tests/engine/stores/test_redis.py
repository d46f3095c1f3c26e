"""Redis-specific promises: TTL aligned with the grace period, pruning, error translation."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis.asyncio as aioredis

from statbot.engine.events import ConversationKey
from statbot.engine.replies import Reply
from statbot.engine.session import Session
from statbot.engine.stores.redis import RedisStore
from statbot.errors import SessionError


async def test_session_keys_expire_and_sweeps_prune_what_expired(redis_url: str):
    prefix = f"ttl:{uuid.uuid4().hex[:8]}:"
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    async with RedisStore(redis_url, prefix=prefix, session_ttl_seconds=0.5) as store:
        old, kept = ConversationKey("tg", 1, 7), ConversationKey("tg", 2, 7)
        await store.commit(
            Session(old, workflow="w", updated_at=1.0), expected_version=0, replies=[Reply.say("x")]
        )
        ttl = await raw.pttl(f"{prefix}s:{old}")
        assert 0 < ttl <= 500
        assert 0 < await raw.pttl(f"{prefix}o:{old}") <= 500
        await asyncio.sleep(0.7)
        await store.commit(Session(kept, updated_at=2.0), expected_version=0)
        assert await store.load(old) is None
        assert await store.idle_since(time.time()) == [kept]  # `old` pruned, not returned
        assert await store.keys_for_user(7) == [kept]
        assert await store.outbox_pending() == []
        counts = await store.counts()
        assert (counts.sessions, counts.in_workflow, counts.outbox) == (1, 0, 0)
    await raw.aclose()


async def test_without_ttl_sessions_do_not_expire(redis_url: str):
    prefix = f"nottl:{uuid.uuid4().hex[:8]}:"
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    async with RedisStore(redis_url, prefix=prefix) as store:
        k = ConversationKey("tg", 1, 7)
        await store.commit(Session(k), expected_version=0)
        assert await raw.pttl(f"{prefix}s:{k}") == -1
    await raw.aclose()


async def test_an_unreachable_server_is_a_session_error():
    with pytest.raises(SessionError) as info:
        await RedisStore("redis://127.0.0.1:1/0").open()
    assert "try again" in info.value.user_message


async def test_a_closed_store_refuses_calls(redis_url: str):
    store = RedisStore(redis_url, prefix=f"closed:{uuid.uuid4().hex[:8]}:")
    with pytest.raises(SessionError, match="not open"):
        await store.load(ConversationKey("tg", 1, 1))
