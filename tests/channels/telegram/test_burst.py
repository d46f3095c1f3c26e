"""The two changes behind the burst figures (docs/PERFORMANCE.md "Burst"): a getUpdates batch
is journaled chat by chat concurrently (order kept within a chat, the offset moved only past
what landed), and the Bot API calls in flight are bounded before httpx sees them."""

from __future__ import annotations

import asyncio
import itertools
import random
from typing import Any

import pytest
from telegram.request import HTTPXRequest

from statbot.channels.telegram.ingress import Poller, chat_of
from statbot.channels.telegram.request import BoundedRequest


def message_update(update_id: int, chat_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "u"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "u"},
            "text": f"m{update_id}",
        },
    }


class RecordingIngress:
    """Journals with a random delay, so chats finish in a shuffled order."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.journaled: list[tuple[int | None, int]] = []  # (chat_id, update_id)
        self.inflight = 0
        self.most_inflight = 0
        self.fail_on = fail_on
        self.rng = random.Random(7)

    async def ingest(self, raw: dict[str, Any]) -> None:
        self.inflight += 1
        self.most_inflight = max(self.most_inflight, self.inflight)
        try:
            await asyncio.sleep(self.rng.random() / 1000)
            if raw["update_id"] == self.fail_on:
                raise OSError("disk full")
            self.journaled.append((chat_of(raw), raw["update_id"]))
        finally:
            self.inflight -= 1


def burst(chats: int, per_chat: int) -> list[dict[str, Any]]:
    ids = itertools.count(1)
    return [message_update(next(ids), 1000 + c) for _ in range(per_chat) for c in range(chats)]


async def test_a_batch_is_journaled_chats_concurrently_each_chat_in_order() -> None:
    ingress = RecordingIngress()
    poller = Poller(None, ingress)  # type: ignore[arg-type]
    updates = burst(chats=20, per_chat=5)
    await poller._journal_batch(updates)
    assert poller.offset == updates[-1]["update_id"] + 1
    assert sorted(u for _c, u in ingress.journaled) == [u["update_id"] for u in updates]
    for chat in range(1000, 1020):
        ids = [u for c, u in ingress.journaled if c == chat]
        assert ids == sorted(ids) and len(ids) == 5
    assert ingress.most_inflight == 20  # one append in flight per chat, all chats at once


async def test_a_failed_append_stops_the_offset_before_it_and_raises() -> None:
    updates = burst(chats=4, per_chat=3)  # ids 1..12, chat of id n is 1000 + (n - 1) % 4
    ingress = RecordingIngress(fail_on=6)
    poller = Poller(None, ingress)  # type: ignore[arg-type]
    poller.offset = 1
    with pytest.raises(OSError, match="disk full"):
        await poller._journal_batch(updates)
    assert poller.offset == 6  # 1..5 acknowledged; 6 and everything after is fetched again
    journaled = {u for _c, u in ingress.journaled}
    assert {1, 2, 3, 4, 5} <= journaled
    assert 10 not in journaled  # the failed chat's later update was not journaled past the gap


def test_a_press_shares_its_chats_lane_and_odd_updates_share_one() -> None:
    press = {"update_id": 9, "callback_query": {"id": "q", "message": {"chat": {"id": 1001}}}}
    assert chat_of(message_update(8, 1001)) == chat_of(press) == 1001
    odd = [{"update_id": 10}, {"message": {"chat": {"id": "1001"}}}, {"message": []}, [], None]
    assert {chat_of(update) for update in odd} == {None}
    assert chat_of({"message": {"chat": {"id": True}}}) is None


class FakeBot:
    """``Bot._post`` as the poller calls it: the Bot API's JSON result, no PTB objects."""

    def __init__(self, batches: list[Any]) -> None:
        self.batches = batches
        self.calls: list[tuple[str, dict[str, Any], float]] = []

    async def _post(self, endpoint: str, data: dict[str, Any], *, read_timeout: float) -> Any:
        self.calls.append((endpoint, dict(data), read_timeout))
        return self.batches.pop(0)


async def test_the_poller_journals_the_raw_json_and_acknowledges_it_on_the_next_call() -> None:
    ingress = RecordingIngress()
    strange = {"update_id": 3, "edited_message": {"text": "PTB-unknown fields are fine"}}
    bot = FakeBot([[message_update(1, 1001), message_update(2, 1002), strange], []])
    poller = Poller(bot, ingress, timeout=5)  # type: ignore[arg-type]
    first = await poller._get_updates()
    await poller._journal_batch(first)
    assert set(ingress.journaled) == {(1001, 1), (1002, 2), (None, 3)}
    assert poller.offset == 4  # past the update statbot does not act on, too
    assert await poller._get_updates() == []
    (endpoint, data, read_timeout), (_, again, _) = bot.calls
    assert endpoint == "getUpdates" and data["offset"] is None and again["offset"] == 4
    assert data["timeout"] == 5
    assert data["allowed_updates"] == ["message", "callback_query", "pre_checkout_query"]
    assert read_timeout == 20  # what get_updates(timeout=5, read_timeout=5 + 10) waited


async def test_bounded_request_caps_calls_in_flight_and_lets_uploads_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inflight = 0
    most = 0
    gate = asyncio.Event()

    async def fake_do_request(self: Any, url: str, method: str, *args: Any, **kw: Any) -> Any:
        nonlocal inflight, most
        inflight += 1
        most = max(most, inflight)
        await gate.wait()
        inflight -= 1
        return 200, b'{"ok": true, "result": true}'

    monkeypatch.setattr(HTTPXRequest, "do_request", fake_do_request)
    request = BoundedRequest(concurrency=3, connection_pool_size=8)

    class Upload:
        contains_files = True

    texts = [asyncio.create_task(request.do_request("u", "POST", None)) for _ in range(10)]
    await asyncio.sleep(0.01)
    assert most == 3  # the other seven wait on the semaphore, not in httpx's pool
    upload = asyncio.create_task(request.do_request("u", "POST", Upload()))
    await asyncio.sleep(0.01)
    assert inflight == 4  # an upload does not wait behind text replies
    gate.set()
    results = await asyncio.gather(*texts, upload)
    assert all(code == 200 for code, _body in results) and most == 4
