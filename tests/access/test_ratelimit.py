"""The incoming rate limit: a token bucket per conversation that says "slow down" once per
episode, and never limits job events or timers (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

from statbot.access.ratelimit import CONTEXT_KEY, RateLimit
from statbot.engine.events import ConversationKey, Event, EventKind
from statbot.engine.session import Session
from statbot.testing import ChatDriver

KEY = ConversationKey("test", 1, 1)


def event(kind: EventKind, at: float, user: int = 1) -> Event:
    return Event(ConversationKey("test", user, user), kind, f"e{at}", text="x", at=at)


async def test_the_burst_passes_then_one_slow_down_then_silence() -> None:
    gate = RateLimit(per_minute=6, burst=3)  # a token every 10 s
    one, two = Session(KEY), Session(ConversationKey("test", 2, 2))

    async def at(when: float, session: Session = one) -> list | None:
        return await gate.admit(session, event(EventKind.TEXT, when, session.key.user_id))

    assert [await at(100.0) for _ in range(3)] == [None, None, None]
    first = await at(100.0)
    assert first is not None and len(first) == 1
    assert first[0].text.startswith("Slow down:") and "Try again in 10 s" in first[0].text
    assert await at(101.0) == [] and await at(105.0) == []  # same episode: nothing
    assert await at(105.0, two) is None  # another conversation has its own bucket
    assert await at(110.0) is None  # refilled: admitted, the episode is over
    again = await at(110.5)
    assert again is not None and len(again) == 1  # a new episode is told again


async def test_an_older_event_refills_nothing() -> None:
    gate = RateLimit(per_minute=60, burst=2)
    session = Session(KEY)
    for _ in range(2):
        assert await gate.admit(session, event(EventKind.TEXT, 1000.0)) is None
    assert await gate.admit(session, event(EventKind.TEXT, 900.0)) is not None  # from the past


async def test_the_bucket_is_the_sessions_so_it_survives_a_reload_and_is_shared() -> None:
    """The bucket travels with the session (as the store writes and reads it), so replicas that
    load one conversation from one Redis count one bucket, and a restart forgets nothing. Each
    gate here is another process (a replica, or the bot after a restart)."""
    replicas = [RateLimit(per_minute=6, burst=2) for _ in range(3)]
    session = Session(KEY)
    assert await replicas[0].admit(session, event(EventKind.TEXT, 50.0)) is None
    reloaded = Session.from_dict(json.loads(json.dumps(session.to_dict())))
    assert await replicas[1].admit(reloaded, event(EventKind.TEXT, 50.0)) is None
    elsewhere = Session.from_dict(json.loads(json.dumps(reloaded.to_dict())))
    told = await replicas[2].admit(elsewhere, event(EventKind.TEXT, 51.0))
    assert told is not None and told[0].text.startswith("Slow down:")


async def test_an_unreadable_stored_bucket_is_a_full_one() -> None:
    gate = RateLimit(per_minute=6, burst=1)
    session = Session(KEY, context={CONTEXT_KEY: "garbage"})
    assert await gate.admit(session, event(EventKind.TEXT, 5.0)) is None
    assert await gate.admit(session, event(EventKind.TEXT, 5.0)) is not None


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
