"""The incoming rate limit: a token bucket per user that says "slow down" once per episode, and
never limits job events or timers (issue 12)."""

from __future__ import annotations

from pathlib import Path

from statbot.access.ratelimit import RateLimit
from statbot.engine.events import ConversationKey, Event, EventKind
from statbot.engine.session import Session
from statbot.testing import ChatDriver

KEY = ConversationKey("test", 1, 1)


def event(kind: EventKind, at: float, user: int = 1) -> Event:
    return Event(ConversationKey("test", user, user), kind, f"e{at}", text="x", at=at)


def test_the_burst_passes_then_one_slow_down_then_silence() -> None:
    gate = RateLimit(per_minute=6, burst=3)  # a token every 10 s
    assert [gate.check(1, 100.0) for _ in range(3)] == [None, None, None]
    first = gate.check(1, 100.0)
    assert first is not None and len(first) == 1
    assert first[0].text.startswith("Slow down:") and "Try again in 10 s" in first[0].text
    assert gate.check(1, 101.0) == [] and gate.check(1, 105.0) == []  # same episode: nothing
    assert gate.check(2, 105.0) is None  # another user has their own bucket
    assert gate.check(1, 110.0) is None  # refilled: admitted, the episode is over
    again = gate.check(1, 110.5)
    assert again is not None and len(again) == 1  # a new episode is told again


def test_an_older_event_refills_nothing_and_idle_buckets_are_dropped() -> None:
    gate = RateLimit(per_minute=60, burst=2)
    gate.check(1, 1000.0)
    gate.check(1, 1000.0)
    assert gate.check(1, 900.0) is not None  # out of order: no tokens from the past
    gate.check(3, 1000.0)
    assert set(gate.buckets) == {1, 3}
    gate.check(4, 2000.0)  # a sweep: users 1 and 3 have been quiet long enough to be full
    assert set(gate.buckets) == {4}


async def test_job_events_and_timers_are_never_limited() -> None:
    gate = RateLimit(per_minute=1, burst=1)
    session = Session(KEY)
    assert await gate.admit(session, event(EventKind.TEXT, 5.0)) is None
    assert await gate.admit(session, event(EventKind.TEXT, 5.0)) is not None
    for kind in (EventKind.JOB_PROGRESS, EventKind.JOB_FINISHED, EventKind.TIMER):
        assert await gate.admit(session, event(kind, 5.0)) is None


async def test_through_the_engine_excess_is_consumed_and_moves_nothing(tmp_path: Path) -> None:
    settings = {"rate_limit_per_minute": 1, "rate_limit_burst": 2}
    async with ChatDriver(tmp_path / "var", **settings) as chat:
        assert "Let's train a model" in " ".join(r.text for r in await chat.send("/train"))
        assert await chat.send("hello")  # the second token: the data step answers
        told = await chat.send("/cancel")
        assert [r.text[:10] for r in told] == ["Slow down:"]
        assert await chat.send("/cancel") == [] and await chat.send("/stats") == []
        assert await chat.state() == ("train", "data")  # neither /cancel nor /stats ran
