"""Outbound rate limits (Telegram's Bot FAQ).

Groups and channels: 20 messages per minute, paced ahead. Private chats: "avoid more than one
message per second; short bursts are allowed" — not paced ahead by default (as neither PTB's
AIORateLimiter nor aiogram does): a report of several messages goes out at once, and should
Telegram answer 429, its ``retry_after`` pauses that one chat and the send resumes where it
stopped (tested through the sandbox). ``per_chat`` turns ahead-pacing on. "About 30 per second"
overall applies to bulk notifications — messages
the bot starts to many users (a broadcast) — not to replies: the FAQ's limit is for "sending bulk
notifications to multiple users", and pacing 300 users' replies at 30/s would make the last one
wait ten seconds. So only ``bulk`` sends take from the overall bucket. A 429 ``retry_after``
pauses only the chat it was about.

The bulk bucket holds one token (no burst) and refills at 29 per second: a full bucket of 30
would let 30 go at once and 30 more within the same second, and pacing at exactly 30/s lets
network jitter put 31 into one second at Telegram's end (issue 12, /broadcast).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` per second. Tokens may go negative: a caller
    told to wait has spent a token it does not have yet, and later callers queue behind it."""

    rate: float  # tokens per second
    capacity: float
    tokens: float = 0.0
    stamp: float | None = None  # None: never used (starts full)

    def delay(self, now: float) -> float:
        """Take one token; return how long the caller must wait before using it."""
        if self.stamp is None:
            self.tokens = self.capacity
        else:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class RateLimiter:
    """Per-chat and global pacing; chat buckets are dropped when idle (no unbounded growth)."""

    def __init__(
        self,
        *,
        per_chat: float | None = None,
        chat_burst: float = 3.0,
        overall: float = 29.0,
        overall_burst: float = 1.0,
        group_per_minute: float = 20.0,
        group_burst: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_chat = per_chat
        self._burst = chat_burst
        self._group = group_per_minute / 60.0
        self._group_burst = group_burst
        self._global = TokenBucket(overall, overall_burst)
        self._chats: dict[int, TokenBucket] = {}
        self._paused_until: dict[int, float] = {}
        self._clock = clock

    def _bucket(self, chat_id: int) -> TokenBucket | None:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if chat_id < 0:  # groups and channels
                bucket = TokenBucket(self._group, min(self._group_burst, 20.0))
            elif self._per_chat is not None:
                bucket = TokenBucket(self._per_chat, self._burst)
            else:
                return None
            self._chats[chat_id] = bucket
        return bucket

    def pause(self, chat_id: int, seconds: float) -> None:
        self._paused_until[chat_id] = self._clock() + seconds

    def reserve(self, chat_id: int, *, bulk: bool = False) -> float:
        """Take a send slot for ``chat_id``; the seconds to wait before sending. ``bulk``: a
        message the bot starts on its own to many users (also paced at the overall rate)."""
        now = self._clock()
        wait = max(0.0, self._paused_until.get(chat_id, 0.0) - now)
        if wait == 0.0:
            self._paused_until.pop(chat_id, None)
        bucket = self._bucket(chat_id)
        if bucket is not None:
            wait = max(wait, bucket.delay(now))
        if bulk:
            wait = max(wait, self._global.delay(now))
        self._gc(now)
        return wait

    async def acquire(self, chat_id: int, *, bulk: bool = False) -> None:
        wait = self.reserve(chat_id, bulk=bulk)
        if wait > 0:
            await asyncio.sleep(wait)

    def _gc(self, now: float) -> None:
        if len(self._chats) < 1024:
            return
        idle = [c for c, b in self._chats.items() if b.stamp is None or now - b.stamp > 60.0]
        for chat_id in idle:
            del self._chats[chat_id]

    def __len__(self) -> int:
        return len(self._chats)
