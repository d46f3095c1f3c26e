"""Updates no sane client sends, through the real ingress into the real SQLite store.

An update the ingress cannot journal is never acknowledged: over a webhook Telegram redelivers
it forever (and holds back every later update), and under polling it stops the bot, which meets
it again on restart. So whatever a parsed update carries must be storable: no lone surrogates
(a cut emoji), no integers SQLite cannot hold.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Bot

from statbot.channels.telegram.ingress import STALE_TOKEN, Ingress
from statbot.channels.telegram.parse import Callback, parse_update
from statbot.channels.telegram.sent import SentMessages
from statbot.engine.events import ConversationKey, Event, EventKind, Upload
from statbot.engine.stores import open_store
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


REPLACED = "cut \ufffd emoji"  # the half pair becomes U+FFFD, the rest of the text is kept


@dataclass(frozen=True)
class Journaled:
    """What the journal must hold for an update, read back from the SQLite file."""

    kind: EventKind
    text: str = ""
    upload: Upload | None = None
    chat_id: int = 5
    token: str = ""
    answered: tuple[str, ...] = ()  # Bot API methods the ingress called


SKIPPED = None  # nothing journaled and no Bot API call

EXPECTED: dict[str, Journaled | None] = {
    "lone surrogate text": Journaled(EventKind.TEXT, REPLACED),
    "lone surrogate caption": Journaled(EventKind.UPLOAD, REPLACED, Upload("a.csv", 9, "f")),
    "lone surrogate file name": Journaled(
        EventKind.UPLOAD, upload=Upload(REPLACED + ".csv", 9, "f")
    ),
    # Data that names no button of ours: a stale choice (the workflow says so), spinner stopped.
    "lone surrogate press": Journaled(
        EventKind.CHOICE, token=STALE_TOKEN, answered=("answerCallbackQuery",)
    ),
    "huge message id in a press": SKIPPED,
    "huge chat id": SKIPPED,
    "huge update id": SKIPPED,
    # A size SQLite cannot hold is read as unknown (0); Telegram's getFile still caps downloads.
    "huge file size": Journaled(EventKind.UPLOAD, upload=Upload("upload", 0, "f")),
    "negative file size": Journaled(EventKind.UPLOAD, upload=Upload("upload", -1, "f")),
    "NUL in text": Journaled(EventKind.TEXT, "a\x00b"),
    "100k text": Journaled(EventKind.TEXT, "x" * 100_000),
    "group chat": Journaled(EventKind.COMMAND, "help", chat_id=-1001234567890),
}


BOT_USER = {"id": 123, "is_bot": True, "first_name": "statbot", "username": "statbot_bot"}


class FakeBotApi:
    """A Bot API over real HTTP on loopback that answers every method with ``true``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append((method, dict(await request.post())))
        if method == "getMe":
            return web.json_response({"ok": True, "result": BOT_USER})
        return web.json_response({"ok": True, "result": True})


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeBotApi, str]]:
    fake = FakeBotApi()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield fake, f"http://127.0.0.1:{port}/bot"
    finally:
        await runner.cleanup()


def test_every_hostile_update_has_an_expected_outcome() -> None:
    assert set(EXPECTED) == set(HOSTILE)


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_hostile_update_is_journaled_or_skipped(
    api: tuple[FakeBotApi, str], tmp_path: Path, name: str
) -> None:
    fake, base_url = api
    path = str(tmp_path / "s.sqlite3")
    store = open_store("sqlite", sqlite_path=path, synchronous="NORMAL")
    await store.open()
    sent = SentMessages(tmp_path / "sent.sqlite3")
    try:
        async with Bot("123:ABC", base_url=base_url) as bot:
            channel = Ingress(bot, store.inbox_append, sent, Metrics())
            await channel.ingest(HOSTILE[name])  # must not raise: that would never be acknowledged
    finally:
        sent.close()
        await store.close()
    async with open_store("sqlite", sqlite_path=path) as reopened:  # what a restart would see
        entries = await reopened.inbox_pending()
    expected = EXPECTED[name]
    methods = tuple(method for method, _ in fake.calls if method != "getMe")  # Bot start-up
    if expected is None:
        assert entries == [] and methods == (), (entries, fake.calls)
        return
    (entry,) = entries
    event = entry.event
    assert event.update_id == HOSTILE[name]["update_id"]
    assert event.key == ConversationKey("telegram", expected.chat_id, 5)
    assert event.kind is expected.kind
    assert event.text == expected.text
    assert event.upload == expected.upload
    assert event.token == expected.token
    assert methods == expected.answered
    if expected.answered:
        assert fake.calls[-1][1]["callback_query_id"] == "q1"


INT64 = range(-(2**63), 2**63)  # what SQLite can store


def _storable(event: Event) -> None:
    json.dumps(event.to_dict(), ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate
    assert event.update_id in INT64
    assert event.key.chat_id in INT64 and event.key.user_id in INT64
    if event.upload is not None:
        assert event.upload.size in INT64


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
    # Skipped exactly when an id the update is addressed by cannot be stored; else it is kept.
    addressable = update_id in INT64 and chat_id in INT64
    if kind == "press":
        addressable = addressable and message_id in INT64
    assert (parsed is not None) == addressable, parsed
    if parsed is None:
        return
    assert parsed.update_id == update_id and parsed.key.chat_id == chat_id
    assert parsed.key.user_id == (user_id if user_id in INT64 else chat_id)  # no sender: the chat
    if isinstance(parsed, Callback):
        assert parsed.message_id == message_id
        parsed.data.encode("utf-8")  # raises on a lone surrogate
        if _valid_utf8(data):
            assert parsed.data == data
    else:
        _storable(parsed)
        if kind == "text" and parsed.kind is EventKind.TEXT and _valid_utf8(text):
            assert parsed.text == text
        if kind == "document":
            assert parsed.kind is EventKind.UPLOAD and parsed.upload is not None
            assert parsed.upload.size == (file_size if file_size in INT64 else 0)
            if _valid_utf8(file_name):
                assert parsed.upload.file_name == (file_name or "upload")
            if _valid_utf8(text):
                assert parsed.text == text


def _valid_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
