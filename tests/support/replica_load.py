"""Simulated users for the replica tests and benchmark (issue 14): each user sends a numbered
sequence of ``/kb_get <entry>`` commands, a different entry each time, so that every reply names
the one input it answers (the entry's title heads it). Counting replies per input tells what was
lost (none) and out of order (a chat's replies not in input order); the sessions in Redis tell
what was applied twice (an input twice in a conversation's history). A reply sent twice without
being applied twice is ``redelivered``: delivery is at least once, and a replica killed between
sending a reply and marking it sent leaves it to be sent again (docs/RELIABILITY.md).

Users write over the sandbox's control API (real HTTP); the tally reads each chat back from it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from statbot.sandbox.client import ChatView, SandboxClient


@dataclass(frozen=True)
class Entries:
    """Entry ids in a fixed order, and how a reply to ``/kb_get <id>`` begins."""

    ids: tuple[str, ...]
    heads: dict[str, str]  # first line of the reply -> entry id

    @classmethod
    def load(cls) -> Entries:
        from statbot.kb.loader import load_entries

        entries = sorted(load_entries(), key=lambda e: e.id)
        return cls(tuple(e.id for e in entries), {f"{e.title} ({e.kind})": e.id for e in entries})

    def sequence(self, user: int, count: int) -> list[str]:
        assert count <= len(self.ids), "one entry per message: a repeat would look doubled"
        return [self.ids[(user * count + n) % len(self.ids)] for n in range(count)]

    def answered(self, chat: ChatView) -> list[tuple[str, float]]:
        """The entries the bot's messages in ``chat`` answer, in order, with when each came."""
        found = []
        for message in chat.bot_messages:
            head = (message.text or "").split("\n", 1)[0].strip()
            if head in self.heads:
                found.append((self.heads[head], message.sent_at))
        return found


@dataclass
class Tally:
    users: int
    messages: int
    lost: int = 0
    doubled: int = 0  # inputs applied more than once (the sessions' history)
    redelivered: int = 0  # extra copies of a reply (at-least-once delivery)
    out_of_order: int = 0  # chats whose replies are not in input order
    latencies_ms: list[float] = field(default_factory=list)
    first_sent: float = 0.0
    last_reply: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return self.messages - self.lost

    @property
    def p99_ms(self) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else float("nan")
        return statistics.quantiles(self.latencies_ms, n=100)[98]

    @property
    def throughput(self) -> float:
        """Messages answered per second, from the first message sent to the last reply."""
        span = self.last_reply - self.first_sent
        return self.answered / span if span > 0 else 0.0

    def summary(self) -> str:
        return (
            f"{self.users} users, {self.messages} messages: lost {self.lost}, doubled "
            f"{self.doubled}, out of order {self.out_of_order}, redelivered {self.redelivered}; "
            + "; ".join(self.problems[:8])
        )


@dataclass
class Load:
    client: SandboxClient
    entries: Entries
    per_user: int
    users: list[int] = field(default_factory=list)
    sent: dict[int, list[tuple[str, float]]] = field(default_factory=dict)

    async def add_users(self, count: int) -> None:
        base = len(self.users)
        for u in range(count):
            self.users.append(await self.client.add_user(f"load{base + u}"))

    async def _user(self, index: int, user_id: int, pace: float) -> None:
        for entry in self.entries.sequence(index, self.per_user):
            self.sent.setdefault(user_id, []).append((entry, time.time()))
            await self.client.send(f"/kb_get {entry}", user_id=user_id)
            if pace:
                await asyncio.sleep(pace)

    async def run(self, pace: float = 0.0) -> None:
        """Every user sends its whole sequence (``pace`` seconds apart), all users at once."""
        await asyncio.gather(*(self._user(i, u, pace) for i, u in enumerate(self.users)))

    async def _chats(self) -> dict[int, ChatView]:
        views = await asyncio.gather(*(self.client.chat(user_id=u) for u in self.users))
        return dict(zip(self.users, views, strict=True))

    async def wait_answered(self, within: float) -> None:
        """Until every message has a reply (or ``within`` seconds pass), then a quiet moment so
        that a late duplicate would be seen too. While the bot is busy only the sandbox's event
        counter is read (one small request); every chat is read once nothing has moved for a
        second: reading 500 chats twice a second took the driver's CPU, which the sandbox in
        the same process needs to deliver the load (and so lowered the throughput measured)."""
        expected = self.per_user * len(self.users)
        deadline = time.monotonic() + within
        last_seq, quiet_since = None, time.monotonic()
        while (now := time.monotonic()) < deadline:
            seq = (await self.client.info())["seq"]
            if seq != last_seq:
                last_seq, quiet_since = seq, now
            elif now - quiet_since >= 1.0:
                chats = await self._chats()
                got = sum(len({e for e, _ in self.entries.answered(c)}) for c in chats.values())
                if got >= expected:
                    break
                quiet_since = now  # a dead replica's chats wait for its leases: look again later
            await asyncio.sleep(0.25)
        await asyncio.sleep(1.5)

    async def applied(self, redis_url: str) -> dict[int, list[str]]:
        """The entries each user's conversation applied, from its history in Redis."""
        from statbot.channels.telegram.parse import CHANNEL
        from statbot.engine.events import ConversationKey
        from statbot.engine.stores.redis import RedisStore

        found: dict[int, list[str]] = {}
        async with RedisStore(redis_url) as store:
            for user_id in self.users:
                session = await store.load(ConversationKey(CHANNEL, user_id, user_id))
                history = session.history if session is not None else []
                found[user_id] = [
                    h["text"].removeprefix("/kb_get ").strip()
                    for h in history
                    if h["role"] == "user" and h["text"].startswith("/kb_get ")
                ]
        return found

    async def tally(self, redis_url: str) -> Tally:
        chats = await self._chats()
        applied = await self.applied(redis_url)
        tally = Tally(len(self.users), self.per_user * len(self.users))
        tally.first_sent = min((t for s in self.sent.values() for _, t in s), default=0.0)
        for user_id in self.users:
            sent = self.sent.get(user_id, [])
            answered = self.entries.answered(chats[user_id])
            counts: dict[str, int] = {}
            for entry, _ in answered:
                counts[entry] = counts.get(entry, 0) + 1
            for entry, at in sent:
                n = counts.get(entry, 0)
                if n == 0:
                    tally.lost += 1
                    tally.problems.append(f"user {user_id}: no reply to {entry}")
                elif n > 1:
                    tally.redelivered += n - 1
                times = applied[user_id].count(entry)
                if times > 1:
                    tally.doubled += times - 1
                    tally.problems.append(f"user {user_id}: {entry} applied {times} times")
                first = next((when for e, when in answered if e == entry), None)
                if first is not None:
                    tally.latencies_ms.append(max(first - at, 0.0) * 1000)
                    tally.last_reply = max(tally.last_reply, first)
            order = _first_occurrences([e for e, _ in answered])
            if order != [e for e, _ in sent if e in order]:
                tally.out_of_order += 1
                tally.problems.append(f"user {user_id}: replies in order {order}")
        return tally


def _first_occurrences(items: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    return [i for i in items if not (i in seen or seen.add(i))]  # type: ignore[func-returns-value]
