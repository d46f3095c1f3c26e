"""Telegram Stars in the sandbox (issue 12), driven by the real python-telegram-bot client.

sendInvoice (XTR, empty provider token, one price) → the user's Pay → a pre_checkout_query the
bot answers within the timeout → a successful_payment message update with a fresh charge id;
a refusal or no answer shows on the page; refundStarPayment once, then Telegram's 400s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import telegram
from telegram import LabeledPrice
from telegram.error import BadRequest

from statbot.sandbox import RunningSandbox, SandboxError, run_sandbox

from .conftest import TOKEN


@pytest.fixture
async def bot(sandbox: RunningSandbox) -> AsyncIterator[telegram.Bot]:
    api = sandbox.api_url
    async with telegram.Bot(
        TOKEN, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot"
    ) as client:
        yield client


async def invoice(bot: telegram.Bot, chat_id: int, stars: int = 50, **extra: Any) -> int:
    sent = await bot.send_invoice(
        chat_id,
        title="10 credits",
        description="Ten trainings beyond the free quota",
        payload="pack:10:50",
        currency="XTR",
        prices=[LabeledPrice("10 credits", stars)],
        provider_token="",
        **extra,
    )
    assert sent.invoice is not None
    assert (sent.invoice.title, sent.invoice.currency, sent.invoice.total_amount) == (
        "10 credits",
        "XTR",
        stars,
    )
    return sent.message_id


async def updates(bot: telegram.Bot, offset: int | None = None) -> list[telegram.Update]:
    return list(await bot.get_updates(offset=offset, timeout=2))


async def test_a_paid_invoice_becomes_a_successful_payment(
    sandbox: RunningSandbox, bot: telegram.Bot, alice: int
) -> None:
    message_id = await invoice(bot, alice)
    view = (await sandbox.client.chat()).bot_messages[-1]
    assert view.invoice is not None and view.invoice["total_amount"] == 50
    assert view.payment_status is None and "invoice_payload" not in view.raw["invoice"]

    paid = await sandbox.client.pay(message_id)
    got = await updates(bot)
    query = got[-1].pre_checkout_query
    assert query is not None and got[-1].update_id == paid["update_id"]
    assert (query.id, query.from_user.id) == (paid["pre_checkout_query_id"], alice)
    assert (query.currency, query.total_amount, query.invoice_payload) == ("XTR", 50, "pack:10:50")
    with pytest.raises(SandboxError, match="pending already"):
        await sandbox.client.pay(message_id)  # one checkout at a time

    assert await bot.answer_pre_checkout_query(query.id, ok=True)
    got = await updates(bot, got[-1].update_id + 1)
    message = got[-1].message
    assert message is not None and message.successful_payment is not None
    payment = message.successful_payment
    assert (payment.currency, payment.total_amount, payment.invoice_payload) == (
        "XTR",
        50,
        "pack:10:50",
    )
    assert payment.telegram_payment_charge_id.startswith("stx")
    assert message.from_user.id == alice and message.chat.id == alice

    chat = await sandbox.client.chat()
    assert chat.bot_messages[-1].payment_status == "paid"
    assert chat.messages[-1].raw["successful_payment"]["total_amount"] == 50
    charges = await sandbox.client.charges()
    assert [(c["telegram_payment_charge_id"], c["user_id"], c["refunded"]) for c in charges] == [
        (payment.telegram_payment_charge_id, alice, False)
    ]
    with pytest.raises(SandboxError, match="paid already"):
        await sandbox.client.pay(message_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_pre_checkout_query(query.id, ok=True)  # answered already


async def test_a_refused_checkout_shows_the_bots_reason_and_charges_nothing(
    sandbox: RunningSandbox, bot: telegram.Bot, alice: int
) -> None:
    message_id = await invoice(bot, alice)
    await sandbox.client.pay(message_id)
    query = (await updates(bot))[-1].pre_checkout_query
    assert query is not None
    with pytest.raises(BadRequest, match=r"(?i)ERROR_MESSAGE_EMPTY"):
        await bot.answer_pre_checkout_query(query.id, ok=False)
    assert await bot.answer_pre_checkout_query(query.id, ok=False, error_message="Offer expired")
    shown = (await sandbox.client.chat()).bot_messages[-1]
    assert (shown.payment_status, shown.raw["payment_error"]) == ("declined", "Offer expired")
    assert await sandbox.client.charges() == []
    await sandbox.client.pay(message_id)  # a declined invoice can be paid again


async def test_no_answer_in_time_fails_the_payment(
    sandbox: RunningSandbox, bot: telegram.Bot, alice: int
) -> None:
    await sandbox.client.configure(pre_checkout_timeout=0.3)
    message_id = await invoice(bot, alice)
    paid = await sandbox.client.pay(message_id)
    await asyncio.sleep(0.6)
    shown = (await sandbox.client.chat()).bot_messages[-1]
    assert shown.payment_status == "expired" and "in time" in shown.raw["payment_error"]
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_pre_checkout_query(paid["pre_checkout_query_id"], ok=True)
    assert await sandbox.client.charges() == []


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"currency": "USD"}, "CURRENCY_INVALID"),
        ({"provider_token": "284685063:TEST"}, "PAYMENT_PROVIDER_INVALID"),
        ({"prices": [LabeledPrice("a", 1), LabeledPrice("b", 2)]}, "STARS_INVOICE_INVALID"),
        ({"prices": [LabeledPrice("a", 0)]}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        ({"title": ""}, "INVOICE_TITLE_INVALID"),
    ],
)
async def test_an_invoice_that_is_not_a_stars_invoice_is_refused(
    bot: telegram.Bot, alice: int, fields: dict[str, Any], error: str
) -> None:
    values: dict[str, Any] = {
        "title": "10 credits",
        "description": "Ten trainings",
        "payload": "pack:10:50",
        "currency": "XTR",
        "prices": [LabeledPrice("10 credits", 50)],
        "provider_token": "",
        **fields,
    }
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await bot.send_invoice(alice, **values)


async def pay_through(sandbox: RunningSandbox, bot: telegram.Bot, alice: int) -> str:
    """Invoice, Pay, confirm; the charge id of the payment."""
    await sandbox.client.pay(await invoice(bot, alice))
    got = await updates(bot)
    query = got[-1].pre_checkout_query
    assert query is not None
    await bot.answer_pre_checkout_query(query.id, ok=True)
    message = (await updates(bot, got[-1].update_id + 1))[-1].message
    assert message is not None and message.successful_payment is not None
    return message.successful_payment.telegram_payment_charge_id


async def test_a_refund_is_made_once_and_reaches_the_bot(
    sandbox: RunningSandbox, bot: telegram.Bot, alice: int
) -> None:
    charge = await pay_through(sandbox, bot, alice)
    bob = int((await sandbox.client.users())[1]["id"])
    with pytest.raises(BadRequest, match=r"(?i)CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(bob, charge)  # another user's charge
    with pytest.raises(BadRequest, match=r"(?i)CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(alice, "stx-not-a-charge")
    assert await bot.refund_star_payment(alice, charge)
    with pytest.raises(BadRequest, match=r"(?i)CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(alice, charge)
    message = (await updates(bot))[-1].message
    assert message is not None and message.refunded_payment is not None
    refund = message.refunded_payment
    assert (refund.telegram_payment_charge_id, refund.total_amount, refund.currency) == (
        charge,
        50,
        "XTR",
    )
    assert (await sandbox.client.charges())[0]["refunded"] is True
    assert (await sandbox.client.chat()).bot_messages[-1].payment_status == "refunded"


async def test_an_update_can_be_delivered_again_as_a_duplicate(
    sandbox: RunningSandbox, bot: telegram.Bot, alice: int
) -> None:
    await pay_through(sandbox, bot, alice)
    first = (await sandbox.client.chat()).messages[-1]
    assert first.raw["successful_payment"] is not None
    earlier = (await bot.get_updates(offset=-1))[-1]
    again = await sandbox.client.redeliver(earlier.update_id)
    got = (await updates(bot, earlier.update_id + 1))[-1]
    assert got.update_id == again > earlier.update_id
    assert got.message is not None and earlier.message is not None
    assert got.message.successful_payment == earlier.message.successful_payment
    forged = await sandbox.client.push_update("message", {"message_id": 999, "date": 0})
    assert (await updates(bot, again + 1))[-1].update_id == forged
    with pytest.raises(SandboxError, match="no recent update"):
        await sandbox.client.redeliver(10_000)


async def test_charges_survive_a_restart_and_can_be_refunded_after_it(
    tmp_path: Path,
) -> None:
    state = tmp_path / "sandbox"
    async with run_sandbox(token=TOKEN, state_dir=state) as running:
        api = running.api_url
        async with telegram.Bot(TOKEN, base_url=f"{api}/bot") as client:
            await running.client.send("/start")
            alice = int((await running.client.users())[0]["id"])
            charge = await pay_through(running, client, alice)
            pending = await invoice(client, alice)
            await running.client.pay(pending)  # left unanswered when the sandbox stops
    async with run_sandbox(token=TOKEN, state_dir=state) as running:
        charges = await running.client.charges()
        assert [c["telegram_payment_charge_id"] for c in charges] == [charge]
        shown = {m.message_id: m for m in (await running.client.chat()).bot_messages}
        assert shown[pending].payment_status == "expired"
        api = running.api_url
        async with telegram.Bot(TOKEN, base_url=f"{api}/bot") as client:
            assert await client.refund_star_payment(alice, charge)
