"""The incoming rate limit (issue 12): a token bucket per user, as an engine gate.

Each message, command, button press or upload takes a token; a user's bucket holds
``STATBOT_RATE_LIMIT_BURST`` tokens and refills at ``STATBOT_RATE_LIMIT_PER_MINUTE``. Over the
limit, the first excess event of an *episode* gets one "Slow down" reply; the further ones of the
same episode get nothing. Each is consumed (journaled, marked applied) and moves nothing. The
episode ends with the next event the bucket admits. Job events, timers and payment updates are
never limited: only what a user types or presses is.

The clock is the event's own time (when the channel received it), not the time it is applied:
updates journaled before a crash and replayed at once after a restart are judged as they arrived,
not as a burst. Buckets live in this process (each webhook replica limits what it applies);
idle, refilled buckets are dropped so the table does not grow with every user ever seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from statbot.engine.events import Event, EventKind
from statbot.engine.replies import Reply

if TYPE_CHECKING:
    from statbot.config import Settings
    from statbot.engine.session import Session

LIMITED = frozenset({EventKind.COMMAND, EventKind.TEXT, EventKind.CHOICE, EventKind.UPLOAD})
SWEEP_EVERY_S = 60.0


@dataclass(slots=True)
class Bucket:
    tokens: float
    at: float  # when ``tokens`` was last brought up to date
    warned: bool = False  # this episode's "slow down" was sent


class RateLimit:
    """The gate: :meth:`admit` answers None (through), ``[]`` (consumed silently) or the one
    "Slow down" reply of an episode."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)
        self.buckets: dict[int, Bucket] = {}
        self._swept = -math.inf

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimit:
        return cls(settings.rate_limit_per_minute, settings.rate_limit_burst)

    async def admit(self, session: Session, event: Event) -> list[Reply] | None:
        if event.kind not in LIMITED:
            return None
        return self.check(event.key.user_id, event.at)

    def check(self, user_id: int, at: float) -> list[Reply] | None:
        self._sweep(at)
        bucket = self.buckets.get(user_id)
        if bucket is None:
            bucket = self.buckets[user_id] = Bucket(self.burst, at)
        # An event older than the last one seen (clocks, a replay) refills nothing.
        bucket.tokens = min(self.burst, bucket.tokens + max(0.0, at - bucket.at) * self.rate)
        bucket.at = max(bucket.at, at)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return None
        if bucket.warned:
            return []
        bucket.warned = True
        wait = max(1, math.ceil((1.0 - bucket.tokens) / self.rate))
        return [Reply.say(self.slow_down(wait))]

    def slow_down(self, wait_s: int) -> str:
        per_minute = round(self.rate * 60)
        return (
            f"Slow down: you are sending more than {per_minute} messages a minute, so I skip "
            f"what you send for now. Try again in {wait_s} s."
        )

    def _sweep(self, now: float) -> None:
        """Forget buckets that are full again (their user has been quiet long enough)."""
        if now - self._swept < SWEEP_EVERY_S:
            return
        self._swept = now
        full_after = self.burst / self.rate
        stale = [u for u, b in self.buckets.items() if now - b.at >= full_after]
        for user_id in stale:
            del self.buckets[user_id]
