"""Redis SessionStore (redis-py asyncio): sessions shared by several bot processes.

Every write that must be atomic is one Lua script (``_lua.py``), so the versioned commit (version
check, session write, outbox append, inbox consumption, index updates) is applied entirely or not
at all, and no other client sees a half-written conversation. Keys under ``prefix``::

    s:<key>      string "<version> <last outbox seq> <session JSON>" (a string, not a hash:
                 a hash with a value over 64 bytes is a hashtable, ~300 bytes more per session)
    o:<key>      hash  outbox seq -> {"e": event_id, "r": reply}
    u:<user_id>  zset  conversation keys of a user, score 0 (keys_for_user, /forget); a small
                 zset is a listpack, a small set of strings is a hashtable in Redis 7.0
    active       zset  key -> updated_at, ACTIVE sessions (idle_since)
    grace        zset  key -> grace_until, GRACE sessions (grace_expired)
    wf           set   keys with a workflow in progress (counts)
    outq         set   keys with undelivered outbox items
    inbox        stream entry id "<seq>-0", fields k (key), e (event_id), d (event JSON)
    inbox:seq    string INCR counter, the global arrival order
    inbox:ids    hash  "<key>\\0<event_id>" -> seq, dedupe of pending entries
    ik:<key>     set   pending inbox seqs of a key (delete)

Scripts touch keys they compute from the prefix, so one store lives on one Redis instance (or a
Sentinel-managed primary), not a Cluster. Durability is Redis's: run it with AOF
(docs/RELIABILITY.md "Session stores").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from statbot.engine.errors import LeaseLostError, StaleVersionError
from statbot.engine.events import ConversationKey, Event
from statbot.engine.replies import OutboxItem, Reply
from statbot.engine.session import Session, SessionStatus
from statbot.engine.stores import _lua, _lua_leases
from statbot.engine.stores._codec import dumps, load_session, session_body
from statbot.engine.stores.base import (
    Fence,
    InboxEntry,
    LeaseStore,
    Quarantined,
    SessionStore,
    StoreCounts,
)
from statbot.errors import SessionError

log = logging.getLogger(__name__)
T = TypeVar("T")
_UNAVAILABLE = "Your conversation could not be saved right now. Please try again in a moment."


class RedisStore(SessionStore):
    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "statbot:",
        session_ttl_seconds: float | None = None,
    ) -> None:
        """``session_ttl_seconds``: when given (the app passes timeout + grace period), each
        commit sets the session's keys to expire that long after it, so that Redis drops
        abandoned sessions by itself even if no cleanup loop ever runs again. The sweeps prune
        index entries whose session expired that way."""
        self.url = url
        self.prefix = prefix
        self.ttl_ms = int(session_ttl_seconds * 1000) if session_ttl_seconds else 0
        self._redis: Any = None
        self._scripts: dict[str, Any] = {}

    # lifecycle ------------------------------------------------------------------------------
    async def open(self) -> None:
        if self._redis is not None:
            return
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url, decode_responses=True)
        try:
            await self._call(client.ping())
        except BaseException:
            await client.aclose()
            raise
        self._redis = client
        scripts = {**_lua.SCRIPTS, **_lua_leases.SCRIPTS}
        self._scripts = {name: client.register_script(src) for name, src in scripts.items()}
        log.info("redis store open (prefix=%s, ttl_ms=%d)", self.prefix, self.ttl_ms)

    async def close(self) -> None:
        client, self._redis = self._redis, None
        if client is not None:
            await client.aclose()

    def _k(self, *parts: object) -> str:
        return self.prefix + ":".join(str(p) for p in parts)

    @property
    def _r(self) -> Any:
        if self._redis is None:
            raise SessionError("redis store is not open", user_message=_UNAVAILABLE)
        return self._redis

    async def _call(self, awaitable: Awaitable[T]) -> T:
        from redis.exceptions import RedisError

        try:
            return await awaitable
        except RedisError as exc:
            message = f"redis store {self.prefix}: {exc}"
            raise SessionError(message, user_message=_UNAVAILABLE) from exc

    async def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        self._r  # noqa: B018 - raises when closed
        return await self._call(self._scripts[name](keys=keys, args=args))

    def _common_keys(self) -> list[str]:
        return [self._k("active"), self._k("grace"), self._k("wf"), self._k("outq")]

    def _inbox_keys(self) -> list[str]:
        return [self._k("inbox"), self._k("inbox:ids")]

    # sessions -------------------------------------------------------------------------------
    async def load(self, key: ConversationKey) -> Session | None:
        stored = await self._call(self._r.get(self._k("s", key)))
        if stored is None:
            return None
        version, _out_seq, body = stored.split(" ", 2)
        return load_session(body, int(version), str(key))

    async def commit(
        self,
        session: Session,
        *,
        expected_version: int,
        replies: Sequence[Reply] = (),
        event_id: str = "",
        inbox_seq: int | None = None,
        fence: Fence | None = None,
    ) -> list[OutboxItem]:
        name = str(session.key)
        body = session_body(session, expected_version + 1)
        if fence is not None and fence.key != name:
            raise SessionError(f"a fence of {fence.key} cannot commit {name}")
        grace = session.status is SessionStatus.GRACE
        keys = [
            self._k("s", name),
            self._k("o", name),
            self._k("u", session.user_id),
            *self._common_keys(),
            *self._inbox_keys(),
            self._k("lease", name),
        ]
        args = [
            name,
            expected_version,
            body,
            "grace" if grace else "active",
            repr(float(session.grace_until or 0.0) if grace else float(session.updated_at)),
            1 if session.workflow else 0,
            "" if inbox_seq is None else inbox_seq,
            self.ttl_ms,
            self.prefix,
            "" if fence is None else fence.value,
            0 if fence is None else fence.ttl_ms,
            *(dumps({"e": event_id, "r": reply.to_dict()}) for reply in replies),
        ]
        ok, value = await self._script("commit", keys, args)
        if ok == 2:
            raise LeaseLostError(name)
        if not ok:
            raise StaleVersionError(name, expected_version, int(value))
        session.version = expected_version + 1
        first = int(value) + 1
        return [OutboxItem(name, first + i, event_id, r) for i, r in enumerate(replies)]

    async def delete(self, key: ConversationKey) -> None:
        name = str(key)
        keys = [
            self._k("s", name),
            self._k("o", name),
            self._k("u", key.user_id),
            *self._common_keys(),
            *self._inbox_keys(),
        ]
        await self._script("delete", keys, [name, self.prefix])

    # inbox ----------------------------------------------------------------------------------
    async def inbox_append(self, event: Event) -> int | None:
        name = str(event.key)
        seq = await self._script(
            "inbox_append",
            [*self._inbox_keys(), self._k("inbox:seq")],
            [name, event.event_id, dumps(event.to_dict()), self.prefix],
        )
        return int(seq) if int(seq) > 0 else None

    async def inbox_pending(self, limit: int = 1000, after_seq: int = 0) -> list[InboxEntry]:
        rows = await self._call(
            self._r.xrange(self._k("inbox"), min=f"({after_seq}-0", max="+", count=limit)
        )
        return [
            InboxEntry(
                int(entry_id.split("-", 1)[0]),
                fields["k"],
                fields["e"],
                Event.from_dict(json.loads(fields["d"])),
            )
            for entry_id, fields in rows
        ]

    async def inbox_discard(self, seq: int) -> None:
        await self._script("inbox_discard", self._inbox_keys(), [seq, self.prefix])

    # outbox ---------------------------------------------------------------------------------
    async def outbox_pending(self, key: str | None = None, limit: int = 1000) -> list[OutboxItem]:
        if key is not None:
            names = [key]
        else:
            names = sorted(await self._call(self._r.smembers(self._k("outq"))))
        pending: list[OutboxItem] = []
        for name in names:
            box = await self._call(self._r.hgetall(self._k("o", name)))
            if not box and key is None:  # its outbox expired with the session (TTL)
                await self._script("outq_prune", [self._k("o", name), self._k("outq")], [name])
            for seq in sorted(int(s) for s in box):
                raw = json.loads(box[str(seq)])
                pending.append(OutboxItem(name, seq, raw["e"], Reply.from_dict(raw["r"])))
            if len(pending) >= limit:
                break
        return pending[:limit]

    async def outbox_mark_delivered(self, key: str, seqs: Sequence[int]) -> None:
        # Delivered items are dropped: nothing reads them again (as in memory.py).
        if seqs:
            await self._script(
                "outbox_delivered", [self._k("o", key), self._k("outq")], [key, *seqs]
            )

    # expiry, users, counts ------------------------------------------------------------------
    async def idle_since(self, before: float, limit: int = 1000) -> list[ConversationKey]:
        return await self._scan("active", f"({float(before)!r}", limit)

    async def grace_expired(self, now: float, limit: int = 1000) -> list[ConversationKey]:
        return await self._scan("grace", repr(float(now)), limit)

    async def _scan(self, index: str, upper: str, limit: int) -> list[ConversationKey]:
        if not self.ttl_ms:
            names = await self._call(
                self._r.zrangebyscore(self._k(index), "-inf", upper, start=0, num=limit)
            )
        else:  # sessions may have expired by TTL: drop their index entries on the way
            names = await self._script(
                "scan_live", [self._k(index), *self._common_keys()], [self.prefix, upper, limit]
            )
        return [ConversationKey.parse(n) for n in names]

    async def keys_for_user(self, user_id: int) -> list[ConversationKey]:
        names = await self._script("user_keys", [self._k("u", user_id)], [self.prefix])
        return sorted(ConversationKey.parse(n) for n in names)

    async def counts(self) -> StoreCounts:
        active, grace, wf, inbox, outbox = await self._script(
            "counts", [*self._common_keys(), self._k("inbox")], [self.prefix]
        )
        return StoreCounts(
            sessions=int(active) + int(grace),
            active=int(active),
            in_grace=int(grace),
            in_workflow=int(wf),
            inbox=int(inbox),
            outbox=int(outbox),
        )

    async def sessions_by_workflow(self, limit: int = 10_000) -> dict[str, int]:
        """From the set of sessions in a workflow and their bodies, in batches."""
        names: list[str] = []
        async for name in self._r.sscan_iter(self._k("wf"), count=500):
            names.append(name)
            if len(names) >= limit:
                break
        found: dict[str, int] = {}
        for start in range(0, len(names), 500):
            keys = [self._k("s", name) for name in names[start : start + 500]]
            for stored in await self._call(self._r.mget(keys)):
                if stored is None:
                    continue  # expired or deleted meanwhile
                workflow = json.loads(stored.split(" ", 2)[2]).get("workflow")
                if workflow:
                    found[workflow] = found.get(workflow, 0) + 1
        return found

    # leases ---------------------------------------------------------------------------------
    def leases(self) -> LeaseStore:
        from statbot.engine.stores.redis_leases import RedisLeases

        return RedisLeases(self)

    # damaged records ------------------------------------------------------------------------
    async def quarantine(self, key: str, body: str, reason: str, at: float) -> None:
        record = dumps({"key": key, "at": at, "reason": reason, "body": body})
        await self._call(self._r.rpush(self._k("quarantine"), record))

    async def quarantined(self, limit: int = 100) -> list[Quarantined]:
        rows = await self._call(self._r.lrange(self._k("quarantine"), 0, limit - 1))
        found = [json.loads(row) for row in rows]
        return [Quarantined(r["key"], float(r["at"]), r["reason"], r["body"]) for r in found]
