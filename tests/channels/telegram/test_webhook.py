from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from telegram import Bot

from statbot.channels.telegram.ingress import Ingress, WebhookServer
from statbot.channels.telegram.sent import SentMessages
from statbot.engine.events import Event
from statbot.engine.stores.memory import MemoryStore
from statbot.ops.metrics import Metrics

SECRET = "s3cret-token_value"


class FailingJournal:
    async def __call__(self, event: Event) -> bool:
        raise ConnectionError("store down")


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[WebhookServer, MemoryStore, Metrics]]:
    store = MemoryStore()
    metrics = Metrics()
    sent = SentMessages(tmp_path / "sent.sqlite3")
    bot = Bot("123:ABC", base_url="http://127.0.0.1:9/bot")  # never called in these tests
    ingress = Ingress(bot, store.inbox_append, sent, metrics)
    server = WebhookServer(ingress, secret=SECRET, path="/hook", host="127.0.0.1", port=0)
    await server.start()
    try:
        yield server, store, metrics
    finally:
        await server.stop()
        sent.close()


def update(update_id: int, text: str = "hi") -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "U"},
            "text": text,
        },
    }


async def post(server: WebhookServer, body: bytes, secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    url = f"http://127.0.0.1:{server.bound_port}/hook"
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=io.BytesIO(body), headers=headers) as r,
    ):
        return r.status


async def test_secret_checked_and_nothing_journaled(
    setup: tuple[WebhookServer, MemoryStore, Metrics],
) -> None:
    server, store, metrics = setup
    body = json.dumps(update(1)).encode()
    assert await post(server, body, secret=None) == 403
    assert await post(server, body, secret="wrong") == 403
    assert await store.inbox_pending() == []
    assert metrics.webhook_rejections.labels(reason="secret")._value.get() == 2


async def test_size_and_json_rejections(setup: tuple[WebhookServer, MemoryStore, Metrics]) -> None:
    server, store, _ = setup
    assert await post(server, b"x" * (1024 * 1024 + 10)) == 413
    assert await post(server, b"\x00\xffnot json") == 400
    assert await post(server, b"[1, 2]") == 400
    assert await store.inbox_pending() == []


async def test_journaled_before_200_and_duplicates_once(
    setup: tuple[WebhookServer, MemoryStore, Metrics],
) -> None:
    server, store, metrics = setup
    body = json.dumps(update(41, "hello")).encode()
    assert await post(server, body) == 200
    pending = await store.inbox_pending()
    assert [e.event_id for e in pending] == ["u41"] and pending[0].event.text == "hello"
    assert await post(server, body) == 200  # Telegram redelivers: acknowledged, not doubled
    assert len(await store.inbox_pending()) == 1
    assert metrics.updates_duplicate._value.get() == 1


async def test_journal_failure_is_not_acknowledged(
    setup: tuple[WebhookServer, MemoryStore, Metrics],
) -> None:
    server, _, _ = setup
    server.ingress.journal = FailingJournal()
    assert await post(server, json.dumps(update(2)).encode()) == 500


async def test_a_body_arriving_in_pieces_is_read_whole(
    setup: tuple[WebhookServer, MemoryStore, Metrics],
) -> None:
    # A body larger than one socket read (long text plus entities can reach hundreds of KB)
    # must be read to its end, not parsed from its first chunk and refused as "not JSON".
    server, store, metrics = setup
    body = json.dumps(update(7, "a" * 600_000)).encode()
    assert await post(server, body) == 200
    pending = await store.inbox_pending()
    assert [e.event_id for e in pending] == ["u7"]
    assert metrics.webhook_rejections.labels(reason="json")._value.get() == 0
