"""The web page across a sandbox restart (issue 9, 2a), in a real headless Chromium: a page left
open reconnects to the same address and follows on; a reloaded page shows the old history."""

from __future__ import annotations

from pathlib import Path

from statbot.sandbox import run_sandbox

from .test_page import CHROMIUM_ARGS
from .test_persist import bot_for, keyboard


async def test_page_follows_a_restart_and_shows_the_history(chromium: Path, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    state_dir = tmp_path / "sandbox"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            rows = page.locator("#messages .row")
            async with run_sandbox(state_dir=state_dir) as first:
                port = first.port
                await first.client.send("/start")
                async with bot_for(first) as bot:
                    (start,) = await bot.get_updates(timeout=0)
                    assert start.effective_chat is not None
                    alice = start.effective_chat.id
                    await bot.send_message(alice, "Pick a model", reply_markup=keyboard("rf"))
                    await bot.send_document(alice, b"a,b\n1,2\n", filename="table.csv")
                await page.goto(first.page_url)
                await expect(page.locator("body[data-ready=true]")).to_have_count(1)
                await expect(rows).to_have_count(3)

            async with run_sandbox(port=port, state_dir=state_dir) as second:
                async with bot_for(second) as bot:
                    await bot.send_message(alice, "Welcome back")
                # The page left open reconnects (same address) and shows what came after.
                await expect(rows).to_have_count(4, timeout=20_000)
                await expect(rows.last).to_contain_text("Welcome back")
                # A fresh load shows the history kept across the restart.
                await page.reload()
                await expect(page.locator("body[data-ready=true]")).to_have_count(1)
                await expect(rows).to_have_count(4)
                await expect(rows.nth(0)).to_contain_text("/start")
                await expect(page.locator("a.file .file-name")).to_have_text("table.csv")
                # The button under the message from before the restart still works.
                await page.locator(".kb-row button", has_text="RF").click()
                async with bot_for(second) as bot:
                    (press,) = await bot.get_updates(offset=start.update_id + 1, timeout=5)
                    assert press.callback_query is not None
                    assert press.callback_query.data == "rf"
            assert errors == []
        finally:
            await browser.close()
