"""The catalog side of /broadcast (issue 12): the audience, one broadcast per confirming event,
and each recipient's way to exactly one outcome."""

from __future__ import annotations

import sqlalchemy as sa

from statbot.access.broadcasts import BLOCKED, FAILED, SENT, Broadcasts
from statbot.access.catalog import Catalog
from statbot.access.models import BroadcastRecipient, User


def add_users(catalog: Catalog, **roles: str) -> None:
    """Users named u<id>=role; ids are the numbers."""
    with catalog.session() as s:
        for name, role in roles.items():
            uid = int(name[1:])
            s.add(User(id=uid, name=name, role=role, first_seen=1.0, last_seen=10.0))


def create(b: Broadcasts, key: str = "k1", audience: str = "all") -> int:
    return b.create(key=key, created_by=1, reply_to="test:1:1", audience=audience, text="hi").id


def test_the_audience_leaves_out_blocked_and_unreachable_users(catalog: Catalog) -> None:
    add_users(catalog, u1="admin", u2="analyst", u3="viewer", u4="analyst", u5="viewer")
    with catalog.session() as s:
        s.get(User, 3).blocked = True  # an admin blocked them
        s.get(User, 4).unreachable_since = 20.0  # blocked the bot after their last message
        s.get(User, 5).unreachable_since = 5.0  # ... and wrote again since: reachable
    b = Broadcasts(catalog)
    assert b.audience("all") == [1, 2, 5]
    assert b.audience("analyst") == [2]
    assert b.audience("owner") == []
    assert b.role_of(3) == "blocked" and b.role_of(1) == "admin" and b.role_of(99) is None


def test_a_confirming_event_replayed_finds_its_broadcast(catalog: Catalog) -> None:
    add_users(catalog, u1="admin", u2="viewer")
    b = Broadcasts(catalog)
    first = create(b)
    add_users(catalog, u3="viewer")  # joins after: not a recipient of the first
    assert create(b) == first
    assert b.get(first).recipients == 2  # type: ignore[union-attr]
    assert create(b, key="k2") != first
    with catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(BroadcastRecipient)) == 2 + 3


def test_each_recipient_reaches_one_outcome_and_is_never_claimed_after(catalog: Catalog) -> None:
    add_users(catalog, u1="admin", u2="viewer", u3="viewer", u4="viewer")
    b = Broadcasts(catalog, clock=lambda: 30.0)
    bid = create(b)
    assert b.pending(bid, 2) == [1, 2]  # in user id order, a window at a time
    b.mark_queued(bid, [1, 2])
    assert b.pending(bid, 10) == [3, 4] and b.in_flight(bid) == 2
    b.mark_queued(bid, [3, 4])
    assert b.claim(bid, 1) and b.claim(bid, 2) and b.claim(bid, 3)
    b.record(bid, 1, SENT, 11)
    b.record(bid, 2, BLOCKED)
    b.record(bid, 3, FAILED)
    assert not b.claim(bid, 1) and not b.claim(bid, 2) and not b.claim(bid, 3)
    assert b.claim(bid, 4) and b.claim(bid, 4)  # interrupted mid-send: may go again
    counts = b.counts(bid)
    assert (counts.sent, counts.blocked, counts.failed, counts.open) == (1, 1, 1, 1)
    with catalog.session() as s:
        assert s.get(User, 2).unreachable_since == 30.0  # type: ignore[union-attr]
        assert s.get(BroadcastRecipient, (bid, 1)).message_id == 11  # type: ignore[union-attr]
    b.record(bid, 4, SENT)
    assert b.counts(bid).open == 0
    b.mark_done(bid)
    assert b.active() == []


def test_requeue_hands_queued_recipients_over_again(catalog: Catalog) -> None:
    add_users(catalog, u1="admin", u2="viewer")
    b = Broadcasts(catalog)
    bid = create(b)
    b.mark_queued(bid, [1, 2])
    b.claim(bid, 2)  # sending: in a call, not re-queued
    assert b.requeue(bid) == 1
    assert b.pending(bid, 10) == [1]
