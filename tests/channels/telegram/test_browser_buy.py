"""Buying a pack in a browser (issue 12): headless Chromium opens the sandbox page, sends /buy
to the real bot, picks a pack, presses the invoice's Pay button, and sees the payment go
through and the credits arrive; /balance then shows them."""

from __future__ import annotations

from pathlib import Path

from tests.channels.telegram.conftest import BotInSandbox
from tests.sandbox.test_page import CHROMIUM_ARGS as ARGS


async def test_buy_a_pack_on_the_sandbox_page(
    chromium: Path, bot: BotInSandbox, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 800})
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(bot.sandbox.page_url)
            await expect(page.locator("body[data-ready=true]")).to_have_count(1)
            bot_rows = page.locator(".row.bot")

            async def say(text: str) -> None:
                await page.fill("#text-input", text)
                await page.press("#text-input", "Enter")

            await say("/buy")
            await expect(bot_rows.last).to_contain_text("Pick a pack")
            await page.locator(".row.bot button", has_text="10 credits").last.click()
            invoice = page.locator(".row.bot .invoice")
            await expect(invoice).to_contain_text("10 credits")
            pay = invoice.locator("button.pay-button")
            await expect(pay).to_have_text("Pay ⭐ 50")
            await pay.click()
            await expect(invoice.locator(".pay-status")).to_have_text("Paid ✓")
            await expect(page.locator(".row.service")).to_have_text("You paid ⭐ 50 to the bot.")
            await expect(bot_rows.last).to_contain_text("10 credits added")
            await expect(bot_rows.last).to_contain_text("Your balance: 10 credits.")
            await expect(pay).to_be_disabled()
            await say("/balance")
            await expect(bot_rows.last).to_contain_text("purchase +10, 50 ⭐")
            [charge] = await bot.client.charges()
            assert charge["total_amount"] == 50 and charge["refunded"] is False

            await page.screenshot(path=str(tmp_path / "buy.png"))  # renders whole
            assert errors == []
        finally:
            await browser.close()
