"""Outbound rate limits (Telegram's documented bot limits).

About one message per second per private chat (short bursts tolerated), 30 per second overall,
20 per minute per group. A 429 ``retry_after`` pauses only the chat it was about.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float = field(default=-1.0)
    stamp: float = 0.0

    def delay(self, now: float) -> float:
        """Take one token; return how long the caller must wait before using it."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class RateLimiter:
    """Per-chat and global pacing; chat buckets are dropped when idle (no unbounded growth)."""

    def __init__(
        self,
        *,
        per_chat: float = 1.0,
        chat_burst: float = 3.0,
        overall: float = 30.0,
        group_per_minute: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_chat = per_chat
        self._burst = chat_burst
        self._group = group_per_minute / 60.0
        self._global = TokenBucket(overall, overall)
        self._chats: dict[int, TokenBucket] = {}
        self._paused_until: dict[int, float] = {}
        self._clock = clock

    def _bucket(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if chat_id < 0:  # groups and channels
                bucket = TokenBucket(self._group, min(self._burst, 20.0))
            else:
                bucket = TokenBucket(self._per_chat, self._burst)
            self._chats[chat_id] = bucket
        return bucket

    def pause(self, chat_id: int, seconds: float) -> None:
        self._paused_until[chat_id] = self._clock() + seconds

    def reserve(self, chat_id: int) -> float:
        now = self._clock()
        wait = max(0.0, self._paused_until.get(chat_id, 0.0) - now)
        if wait == 0.0:
            self._paused_until.pop(chat_id, None)
        wait = max(wait, self._bucket(chat_id).delay(now), self._global.delay(now))
        self._gc(now)
        return wait

    async def acquire(self, chat_id: int) -> None:
        wait = self.reserve(chat_id)
        if wait > 0:
            await asyncio.sleep(wait)

    def _gc(self, now: float) -> None:
        if len(self._chats) < 1024:
            return
        idle = [c for c, b in self._chats.items() if now - b.stamp > 60.0]
        for chat_id in idle:
            del self._chats[chat_id]

    def __len__(self) -> int:
        return len(self._chats)
