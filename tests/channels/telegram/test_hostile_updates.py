"""Updates no sane client sends, through the real ingress into the real SQLite store.

An update the ingress cannot journal is never acknowledged: over a webhook Telegram redelivers
it forever (and holds back every later update), and under polling it stops the bot, which meets
it again on restart. So whatever a parsed update carries must be storable: no lone surrogates
(a cut emoji), no integers SQLite cannot hold.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Bot

from statbot.channels.telegram.ingress import Ingress
from statbot.channels.telegram.menus import MenuTable
from statbot.channels.telegram.parse import Callback, parse_update
from statbot.engine.events import Event
from statbot.engine.stores import open_store
from statbot.engine.stores.base import SessionStore
from statbot.ops.metrics import Metrics

LONE = json.loads('"cut \\ud83d emoji"')  # what json.loads makes of a half surrogate pair


def message(update_id: int, **fields: Any) -> dict[str, Any]:
    body = {
        "message_id": 1,
        "date": 1,
        "chat": {"id": 5, "type": "private"},
        "from": {"id": 5, "is_bot": False, "first_name": "U"},
    }
    body.update(fields)
    return {"update_id": update_id, "message": body}


def press(update_id: int, data: str, message_id: int = 3) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": "q1",
            "from": {"id": 5, "is_bot": False, "first_name": "U"},
            "data": data,
            "message": {"message_id": message_id, "date": 1, "chat": {"id": 5}},
        },
    }


HOSTILE = {
    "lone surrogate text": message(1, text=LONE),
    "lone surrogate caption": message(
        2, caption=LONE, document={"file_id": "f", "file_size": 9, "file_name": "a.csv"}
    ),
    "lone surrogate file name": message(
        3, document={"file_id": "f", "file_size": 9, "file_name": LONE + ".csv"}
    ),
    "lone surrogate press": press(4, LONE),
    "huge message id in a press": press(5, "o:0", message_id=2**70),
    "huge chat id": message(6, text="hi", chat={"id": 2**70}, **{"from": {"id": 2**70}}),
    "huge update id": message(2**70, text="hi"),
    "huge file size": message(7, document={"file_id": "f", "file_size": 2**80}),
    "negative file size": message(8, document={"file_id": "f", "file_size": -1}),
    "NUL in text": message(9, text="a\x00b"),
    "100k text": message(10, text="x" * 100_000),
    "group chat": message(11, text="/help", chat={"id": -1001234567890, "type": "supergroup"}),
}


@pytest.fixture
async def ingress(tmp_path: Path) -> AsyncIterator[tuple[Ingress, SessionStore]]:
    store = open_store("sqlite", sqlite_path=str(tmp_path / "s.sqlite3"), synchronous="NORMAL")
    await store.open()
    menus = MenuTable(tmp_path / "menus.sqlite3")
    bot = Bot("123:ABC", base_url="http://127.0.0.1:9/bot")  # answers fail quietly; not needed
    try:
        yield Ingress(bot, store.inbox_append, menus, Metrics()), store
    finally:
        menus.close()
        await store.close()


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_hostile_update_is_journaled_or_skipped(
    ingress: tuple[Ingress, SessionStore], name: str
) -> None:
    channel, store = ingress
    await channel.ingest(HOSTILE[name])  # must not raise: that would never be acknowledged
    for entry in await store.inbox_pending():
        entry.event.text.encode("utf-8")  # raises on a lone surrogate
        if entry.event.upload is not None:
            entry.event.upload.file_name.encode("utf-8")


def _storable(event: Event) -> None:
    json.dumps(event.to_dict(), ensure_ascii=False).encode("utf-8")
    for value in (event.key.chat_id, event.key.user_id):
        assert -(2**63) <= value < 2**63


wide_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
wide_int = st.integers(min_value=-(2**80), max_value=2**80)


@settings(max_examples=300, deadline=None)
@given(
    update_id=wide_int,
    chat_id=wide_int,
    user_id=wide_int,
    message_id=wide_int,
    text=wide_text,
    file_name=wide_text,
    file_size=wide_int,
    data=wide_text,
    kind=st.sampled_from(["text", "document", "press"]),
)
def test_whatever_parses_can_be_stored(
    update_id: int,
    chat_id: int,
    user_id: int,
    message_id: int,
    text: str,
    file_name: str,
    file_size: int,
    data: str,
    kind: str,
) -> None:
    who = {"chat": {"id": chat_id, "type": "private"}, "from": {"id": user_id}}
    if kind == "press":
        raw: dict[str, Any] = press(update_id, data, message_id)
        raw["callback_query"]["message"]["chat"]["id"] = chat_id
        raw["callback_query"]["from"]["id"] = user_id
    elif kind == "document":
        doc = {"file_id": data or "f", "file_name": file_name, "file_size": file_size}
        raw = message(update_id, caption=text, document=doc, **who)
    else:
        raw = message(update_id, text=text, **who)
    parsed = parse_update(raw)
    if isinstance(parsed, Callback):
        assert -(2**63) <= parsed.message_id < 2**63
        assert parsed.data.encode("utf-8") is not None
    elif parsed is not None:
        _storable(parsed)
