"""Buying credits end to end (issue 12): the real bot (PTB client, ingress, sender, engine,
/buy, the ledger) against the sandbox over HTTP — invoice, Pay, pre-checkout answered, credited
once even when the sandbox delivers the payment twice, and an admin's refund confirmed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from statbot.access.ledger import Ledger
from statbot.app import StatbotApp
from statbot.sandbox.server import RunningSandbox
from statbot.sandbox.state import FIRST_USER_ID
from tests.channels.telegram.conftest import BotInSandbox, bot_settings


@pytest.fixture
async def bot(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[BotInSandbox]:
    """The bot with Alice (the sandbox's first user) as its owner: she may /refund."""
    settings = bot_settings(sandbox.api_url, tmp_path / "data", owner_ids=(FIRST_USER_ID,))
    async with StatbotApp(settings) as app:
        yield BotInSandbox(sandbox, app)


async def test_buy_a_pack_pay_and_get_refunded(bot: BotInSandbox) -> None:
    client = bot.client
    alice = int((await client.users())[0]["id"])
    await client.send("/buy")
    await client.wait_for_text("Pick a pack")
    await client.press_label("10 credits — 50 ⭐")
    chat = await client.wait_for_text("Press Pay")
    invoice = next(m for m in chat.bot_messages if m.invoice is not None)
    assert invoice.invoice is not None and invoice.invoice["total_amount"] == 50

    await client.pay(invoice.message_id)
    chat = await client.wait_for_text("10 credits added")
    assert "Your balance: 10 credits." in (chat.bot_messages[-1].text or "")
    assert next(m for m in chat.bot_messages if m.invoice).payment_status == "paid"
    [charge] = await client.charges()
    charge_id = charge["telegram_payment_charge_id"]

    # The same successful_payment once more (a new update id): not credited again.
    emulated = bot.sandbox.state.bot_by_id(None)
    assert emulated is not None
    [paid] = [u for u in emulated.sent if "successful_payment" in u.get("message", {})]
    await client.redeliver(paid["update_id"])
    await client.wait_for_text("credited already")
    assert bot.app.core is not None
    catalog = bot.app.core.services.catalog
    assert catalog is not None
    assert Ledger(catalog).balance(alice) == 10

    await client.send(f"/refund {charge_id}")
    await client.wait_for_text("is refunded", within=15)
    await client.wait_for_text("were refunded to you")
    assert (await client.charges())[0]["refunded"] is True
    assert Ledger(catalog).balance(alice) == 0
    await client.send("/balance")
    chat = await client.wait_for_text("refund -10")
    assert "Your balance: 0 credits." in (chat.bot_messages[-1].text or "")
