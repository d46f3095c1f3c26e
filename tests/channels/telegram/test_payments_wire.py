"""Stars replies on the wire (issue 12): our sender and parser against the sandbox over HTTP.

An INVOICE reply becomes a Stars invoice the user can pay; the pre_checkout_query parses into a
PRE_CHECKOUT event; a CHECKOUT reply answers it, so a successful_payment arrives; a REFUND reply
refunds and journals its result (a refusal too) for the conversation that asked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import telegram

from statbot.channels.telegram.parse import parse_update
from statbot.channels.telegram.sender import TelegramSender
from statbot.channels.telegram.sent import SentMessages
from statbot.engine.events import Event, EventKind
from statbot.engine.replies import OutboxItem, Reply
from statbot.sandbox import RunningSandbox, run_sandbox
from statbot.sandbox.state import DEFAULT_TOKEN


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with run_sandbox() as running:
        yield running


class Wire:
    def __init__(self, sandbox: RunningSandbox, bot: telegram.Bot, menus: SentMessages) -> None:
        self.sandbox = sandbox
        self.bot = bot
        self.journaled: list[Event] = []
        self.sender = TelegramSender(bot, menus, journal=self.journal)
        self.offset: int | None = None
        self.seq = 0

    async def journal(self, event: Event) -> bool:
        self.journaled.append(event)
        return True

    async def deliver(self, key: str, reply: Reply) -> None:
        self.seq += 1
        done = await self.sender.deliver(key, [OutboxItem(key, self.seq, "e", reply)])
        assert done == [self.seq]

    async def next_event(self) -> Event:
        raw: list[Any] = await self.bot._post("getUpdates", {"offset": self.offset, "timeout": 2})
        assert raw, "the bot got no update"
        self.offset = raw[-1]["update_id"] + 1
        event = parse_update(raw[-1])
        assert isinstance(event, Event)
        return event


@pytest.fixture
async def wire(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Wire]:
    api = sandbox.api_url
    menus = SentMessages(tmp_path / "menus.sqlite3")
    async with telegram.Bot(DEFAULT_TOKEN, base_url=f"{api}/bot") as bot:
        yield Wire(sandbox, bot, menus)
    menus.close()


async def test_invoice_checkout_payment_and_refund_round_trip(wire: Wire) -> None:
    client = wire.sandbox.client
    await client.send("/buy")
    alice = int((await client.users())[0]["id"])
    start = await wire.next_event()
    key = str(start.key)
    await wire.deliver(key, Reply.invoice("10 credits", "Ten trainings", "pack:10:50", 50))
    shown = (await client.chat()).bot_messages[-1]
    assert shown.invoice == {
        "title": "10 credits",
        "description": "Ten trainings",
        "start_parameter": "",
        "currency": "XTR",
        "total_amount": 50,
    }

    await client.pay(shown.message_id)
    checkout = await wire.next_event()
    assert checkout.kind is EventKind.PRE_CHECKOUT and str(checkout.key) == key
    assert checkout.payment is not None and checkout.payment.payload == "pack:10:50"
    await wire.deliver(key, Reply.checkout(checkout.payment.query_id, ok=True))
    paid = await wire.next_event()
    assert paid.kind is EventKind.PAYMENT and paid.payment is not None
    charge = paid.payment.charge_id
    assert [c["telegram_payment_charge_id"] for c in await client.charges()] == [charge]

    await wire.deliver(key, Reply.refund(alice, charge))
    refunded = await wire.next_event()
    assert refunded.kind is EventKind.REFUND and refunded.payment is not None
    assert refunded.payment.charge_id == charge
    assert [(e.kind, e.text, e.payment and e.payment.charge_id) for e in wire.journaled] == [
        (EventKind.REFUND_RESULT, "", charge)
    ]
    await wire.deliver(key, Reply.refund(alice, charge))  # again: Telegram refuses
    result = wire.journaled[-1]
    assert result.kind is EventKind.REFUND_RESULT and "ALREADY_REFUNDED" in result.text.upper()
    assert result.event_id != wire.journaled[0].event_id  # another /refund, another result
    wire.seq -= 1
    await wire.deliver(key, Reply.refund(alice, charge))  # the same item re-sent (a crash)
    assert wire.journaled[-1].event_id == result.event_id  # one event: deduplicated


async def test_a_refused_checkout_is_shown_and_a_late_answer_is_dropped(wire: Wire) -> None:
    client = wire.sandbox.client
    await client.send("/buy")
    key = str((await wire.next_event()).key)
    await wire.deliver(key, Reply.invoice("10 credits", "Ten trainings", "pack:10:50", 50))
    invoice = (await client.chat()).bot_messages[-1].message_id
    await client.pay(invoice)
    checkout = await wire.next_event()
    assert checkout.payment is not None
    query = checkout.payment.query_id
    await wire.deliver(key, Reply.checkout(query, ok=False, error="That pack is gone."))
    shown = (await client.chat()).bot_messages[-1]
    assert (shown.payment_status, shown.raw["payment_error"]) == ("declined", "That pack is gone.")
    await wire.deliver(key, Reply.checkout(query, ok=True))  # too late: logged, not retried
    assert await client.charges() == []


async def test_a_checkout_from_a_user_not_allowed_is_refused_not_journaled(wire: Wire) -> None:
    from statbot.channels.telegram.ingress import REFUSAL, Ingress
    from statbot.ops.metrics import Metrics

    client = wire.sandbox.client
    alice = int((await client.users())[0]["id"])
    await client.send("/buy")
    key = str((await wire.next_event()).key)
    await wire.deliver(key, Reply.invoice("10 credits", "Ten trainings", "pack:10:50", 50))
    await client.pay((await client.chat()).bot_messages[-1].message_id)
    raw: list[Any] = await wire.bot._post("getUpdates", {"offset": wire.offset, "timeout": 2})
    assert "pre_checkout_query" in raw[-1]
    ingress = Ingress(
        wire.bot, wire.journal, wire.sender.sent_messages, Metrics(), allowed_users=(alice + 1,)
    )
    await ingress.ingest(raw[-1])
    assert wire.journaled == []
    shown = (await client.chat()).bot_messages[-1]
    assert (shown.payment_status, shown.raw["payment_error"]) == ("declined", REFUSAL)
