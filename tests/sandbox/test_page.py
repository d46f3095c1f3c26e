"""The web chat page in a real headless Chromium (Debian's package, driven by Playwright).

A tiny python-telegram-bot application polls the sandbox; a person (the browser) types /start,
uploads a CSV, presses an inline button, and sees the bot's progress edit in place, a toast,
a photo and a document. The screenshot becomes docs/img/sandbox.png for the README.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from statbot.sandbox import RunningSandbox

from .conftest import TOKEN

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHOTO_LOADED = """() => {
    const img = document.querySelector("img.photo");
    return img !== null && img.complete && img.naturalWidth > 100;
}"""
SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "img" / "sandbox.png"


def chart_png() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 2.9), dpi=100)
    actual = [12, 15, 11, 19, 23, 21, 27, 30]
    predicted = [12.8, 14.1, 12.2, 18.4, 22.1, 22.0, 26.3, 29.2]
    ax.scatter(actual, predicted, color="#3390ec", zorder=3)
    ax.plot([10, 31], [10, 31], color="#9aa5ad", linestyle="--", linewidth=1)
    ax.set_xlabel("actual sales")
    ax.set_ylabel("predicted")
    ax.set_title("Random forest: predicted vs actual", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Train a model", callback_data="train"),
                InlineKeyboardButton("Describe", callback_data="describe"),
            ],
            [InlineKeyboardButton("Cancel", callback_data="cancel")],
        ]
    )


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    await update.effective_message.reply_html(
        f"<b>Hi {update.effective_user.first_name}!</b> I am statbot.\n"
        "Send me a CSV file and I will train a model on it."
    )


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    data = bytes(await (await message.document.get_file()).download_as_bytearray())
    header, *rows = data.decode().strip().splitlines()
    await message.reply_html(
        f"Got <code>{message.document.file_name}</code>: {len(rows)} rows, "
        f"columns <i>{header.replace(',', ', ')}</i>.\nWhat next?",
        reply_markup=menu(),
    )


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    if query.data != "train":
        await query.answer(f"{query.data}: not part of this demo", show_alert=True)
        return
    await query.answer("Training started")
    chat_id = query.message.chat.id
    for percent in (20, 60, 100):
        await context.bot.send_chat_action(chat_id, "typing")
        bar = "█" * (percent // 10) + "░" * (10 - percent // 10)
        await context.bot.edit_message_text(
            f"Training random forest…\n{bar} {percent}%",
            chat_id=chat_id,
            message_id=query.message.message_id,
        )
        await asyncio.sleep(0.25)
    await context.bot.edit_message_text(
        "<b>Model trained:</b> random forest on <code>sales</code>\n"
        "R² = 0.93 (5-fold CV), RMSE = 1.42",
        chat_id=chat_id,
        message_id=query.message.message_id,
        parse_mode="HTML",
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Predict new data", callback_data="predict"),
                    InlineKeyboardButton("Importance", callback_data="importance"),
                ],
                [InlineKeyboardButton("« Main menu", callback_data="menu")],
            ]
        ),
    )
    await context.bot.send_photo(chat_id, chart_png(), caption="Predicted vs actual")
    card = json.dumps({"model": "random_forest", "target": "sales", "r2": 0.93}).encode()
    await context.bot.send_document(chat_id, card, filename="model_card.json")


@pytest.fixture
async def scripted_bot(sandbox: RunningSandbox) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    api = sandbox.api_url
    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(CallbackQueryHandler(on_press))
    async with app:
        await app.bot.set_my_commands(
            [("start", "Say hello"), ("train", "Train a model"), ("help", "What I can do")]
        )
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def test_chat_page_in_headless_chromium(
    chromium: Path,
    sandbox: RunningSandbox,
    scripted_bot: Application,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(sandbox.page_url)
            await expect(page.locator("body[data-ready=true]")).to_have_count(1)
            await expect(page.locator("#bot-name")).to_have_text("Statbot Sandbox")
            await expect(page.locator("#current-user")).to_have_text("Alice")

            # The command menu comes from setMyCommands.
            await page.click("#menu-button")
            await expect(page.locator("#command-menu .c")).to_have_text(
                ["/start", "/train", "/help"]
            )
            await page.click("#menu-button")

            await page.fill("#text-input", "/start")
            await page.press("#text-input", "Enter")
            bot_rows = page.locator(".row.bot")
            await expect(bot_rows.first).to_contain_text("Hi Alice!")
            await expect(bot_rows.first.locator("strong")).to_have_text("Hi Alice!")

            csv = tmp_path / "sales.csv"
            csv.write_text("month,ads,sales\n1,3,12\n2,4,15\n3,2,11\n4,6,19\n")
            await page.set_input_files("#file-input", str(csv))
            await expect(page.locator(".row.user .file-name")).to_have_text("sales.csv")
            menu_row = bot_rows.filter(has_text="What next?")
            await expect(menu_row).to_contain_text("4 rows")
            message_id = await menu_row.get_attribute("data-message-id")

            await menu_row.locator("button[data-callback=train]").click()
            await expect(page.locator(".toast")).to_have_text("Training started")
            edited = page.locator(f'.row.bot[data-message-id="{message_id}"]')
            await expect(edited).to_contain_text("Model trained:", timeout=20_000)
            await expect(edited).to_have_count(1)  # edited in place, not re-sent
            await expect(edited.locator(".meta")).to_contain_text("edited")
            await expect(edited.locator("button[data-callback]")).to_have_text(
                ["Predict new data", "Importance", "« Main menu"]
            )

            photo = page.locator("img.photo")
            await expect(photo).to_have_count(1)
            await page.wait_for_function(PHOTO_LOADED)
            document = page.locator('.file[download="model_card.json"]')
            await expect(document).to_have_count(1)
            card_url = await document.get_attribute("href")
            assert card_url is not None
            assert json.loads(await sandbox.client.download(card_url))["r2"] == 0.93

            # Bob has his own, empty chat.
            await page.locator("#user-list li", has_text="Bob").click()
            await expect(page.locator("#current-user")).to_have_text("Bob")
            await expect(page.locator(".row")).to_have_count(0)
            await page.locator("#user-list li", has_text="Alice").click()
            await expect(photo).to_have_count(1)
            await page.wait_for_function(PHOTO_LOADED)
            await page.evaluate("document.getElementById('messages').scrollTop = 1e9")

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT))
            assert SCREENSHOT.stat().st_size > 10_000
            assert errors == []
        finally:
            await browser.close()
