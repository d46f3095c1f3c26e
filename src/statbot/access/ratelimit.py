"""The incoming rate limit (issue 12): a token bucket per conversation, as an engine gate.

Each message, command, button press or upload takes a token; a conversation's bucket (a user's
chat with the bot) holds ``STATBOT_RATE_LIMIT_BURST`` tokens and refills at
``STATBOT_RATE_LIMIT_PER_MINUTE``. Over the limit, the first excess event of an *episode* gets one
"Slow down" reply; the further ones of the same episode get nothing. Each is consumed
(journaled, marked applied) and moves nothing of the conversation. The episode ends with the
next event the bucket admits. Job events, timers and payment updates are never limited: only
what a user types or presses is.

The clock is the event's own time (when the channel received it), not the time it is applied:
updates journaled before a crash and replayed at once after a restart are judged as they arrived,
not as a burst. The bucket is part of the conversation's session (``context["rate_limit"]``),
so it is committed with the event it judged, in the same atomic write: webhook replicas sharing
one Redis store count one bucket per conversation between them (not one each), a replayed event
is judged against the bucket as it was, and the bucket survives a restart. It goes with the
session when that expires or is forgotten (a full bucket is what a new one would be anyway).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statbot.engine.events import Event, EventKind
from statbot.engine.replies import Reply

if TYPE_CHECKING:
    from statbot.config import Settings
    from statbot.engine.session import Session

LIMITED = frozenset({EventKind.COMMAND, EventKind.TEXT, EventKind.CHOICE, EventKind.UPLOAD})
CONTEXT_KEY = "rate_limit"  # the session's bucket: [tokens, at, warned]


@dataclass(slots=True)
class Bucket:
    tokens: float
    at: float  # when ``tokens`` was last brought up to date
    warned: bool = False  # this episode's "slow down" was sent

    @classmethod
    def stored(cls, raw: Any, burst: float, at: float) -> Bucket:
        """The bucket a session holds; a full one for a new session (or an unreadable entry)."""
        if isinstance(raw, list) and len(raw) == 3:
            tokens, when, warned = raw
            if isinstance(tokens, int | float) and isinstance(when, int | float):
                return cls(min(float(tokens), burst), float(when), bool(warned))
        return cls(burst, at)

    def to_json(self) -> list[Any]:
        return [round(self.tokens, 6), self.at, self.warned]


class RateLimit:
    """The gate: :meth:`admit` answers None (through), ``[]`` (consumed silently) or the one
    "Slow down" reply of an episode."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimit:
        return cls(settings.rate_limit_per_minute, settings.rate_limit_burst)

    async def admit(self, session: Session, event: Event) -> list[Reply] | None:
        if event.kind not in LIMITED:
            return None
        bucket = Bucket.stored(session.context.get(CONTEXT_KEY), self.burst, event.at)
        verdict = self.take(bucket, event.at)
        session.context[CONTEXT_KEY] = bucket.to_json()
        return verdict

    def take(self, bucket: Bucket, at: float) -> list[Reply] | None:
        """One token from ``bucket`` for an event at ``at`` (the bucket is updated in place)."""
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
