"""Issue 15: a stored session record that cannot be read (damaged, or written by a newer
statbot) no longer leaves its user unanswered for ever: it is quarantined for the operator
(kept, counted, logged once), the user is told in words and starts afresh."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest

from statbot.engine import ConversationKey, Event, EventKind, OutboxItem, StateManager
from statbot.engine.stores.sqlite import SqliteStore
from statbot.engine.texts import SESSION_DAMAGED

A = ConversationKey("test", 1, 1)


class Sent:
    def __init__(self) -> None:
        self.texts: dict[str, list[str]] = defaultdict(list)

    async def __call__(self, key: str, items: list[OutboxItem]) -> list[int]:
        self.texts[key].extend(i.reply.text for i in items)
        return [i.seq for i in items]


def text(update_id: int, body: str) -> Event:
    return Event.from_update(A, update_id, EventKind.TEXT, text=body)


def command(update_id: int, name: str) -> Event:
    return Event.from_update(A, update_id, EventKind.COMMAND, text=name)


async def _run(path: Path, registry, events: list[Event]) -> tuple[Sent, StateManager]:
    sent = Sent()
    manager = StateManager(SqliteStore(path), registry)
    manager.set_deliverer(sent)
    async with manager:
        for event in events:
            await manager.submit(event)
            await manager.drain()
    return sent, manager


def _edit_body(path: Path, edit) -> None:
    with sqlite3.connect(path) as conn:
        (body,) = conn.execute("SELECT body FROM sessions WHERE key = ?", (str(A),)).fetchone()
        conn.execute("UPDATE sessions SET body = ? WHERE key = ?", (edit(body), str(A)))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda body: body[: len(body) // 2], id="cut in half"),
        pytest.param(lambda body: "[1, 2, 3]", id="not an object"),
        pytest.param(
            lambda body: json.dumps({**json.loads(body), "schema_version": 99}),
            id="from a newer statbot",
        ),
    ],
)
async def test_an_unreadable_session_is_quarantined_and_the_user_answered(
    tmp_path: Path, registry, damage, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.sqlite3"
    await _run(path, registry, [command(1, "count"), text(2, "one")])
    _edit_body(path, damage)
    caplog.set_level(logging.ERROR, logger="statbot.engine.manager")
    sent, manager = await _run(path, registry, [text(3, "hello"), text(4, "again")])
    replies = sent.texts[str(A)]
    assert replies[0] == SESSION_DAMAGED
    assert replies.count(SESSION_DAMAGED) == 1, replies  # said once, not on every message
    assert len(replies) >= 2, "and the message itself was answered"
    assert manager.counters["quarantined"] == 1
    errors = [r for r in caplog.records if "quarantined" in r.getMessage()]
    assert len(errors) == 1
    async with SqliteStore(path) as store:
        kept = await store.quarantined()
        assert [q.key for q in kept] == [str(A)] and kept[0].body
        fresh = await store.load(A)
        assert fresh is not None and fresh.version >= 4  # the fresh session replaced it
