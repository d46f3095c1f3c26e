"""The real aiogram client (custom TelegramAPIServer) against the sandbox."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
)
from aiogram.types import Message as AiogramMessage

from statbot.sandbox import RunningSandbox

from .conftest import TOKEN, png_bytes


def make_bot(sandbox: RunningSandbox, token: str = TOKEN) -> Bot:
    server = TelegramAPIServer.from_base(sandbox.api_url)
    return Bot(token, session=AiohttpSession(api=server))


@pytest.fixture
async def bot(sandbox: RunningSandbox) -> AsyncIterator[Bot]:
    client = make_bot(sandbox)
    try:
        yield client
    finally:
        await client.session.close()


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=d, callback_data=d) for d in data]]
    )


async def test_identity_and_unauthorized(sandbox: RunningSandbox, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456 and me.is_bot
    stranger = make_bot(sandbox, "42:NOPE")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    finally:
        await stranger.session.close()


async def test_messages_keyboards_and_errors(sandbox: RunningSandbox, bot: Bot, alice: int) -> None:
    sent = await bot.send_message(
        alice, "*Step 1* of 3", parse_mode="MarkdownV2", reply_markup=keyboard("a", "b")
    )
    assert sent.text == "Step 1 of 3" and sent.entities and sent.entities[0].type == "bold"
    assert sent.reply_markup is not None
    assert [b.callback_data for b in sent.reply_markup.inline_keyboard[0]] == ["a", "b"]
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(alice, "<b>x</i>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(alice, "x", reply_markup=keyboard("x" * 65))
    same = {"chat_id": alice, "message_id": sent.message_id, "parse_mode": "MarkdownV2"}
    await bot.edit_message_text(text="*Step 2* of 3", reply_markup=keyboard("c"), **same)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(text="*Step 2* of 3", reply_markup=keyboard("c"), **same)
    view = await sandbox.client.chat()
    assert view.bot_messages[0].text == "Step 2 of 3"
    assert view.bot_messages[0].button_data == ["c"]


async def test_files_roundtrip(sandbox: RunningSandbox, bot: Bot, alice: int) -> None:
    image = png_bytes(6, 4)
    photo = await bot.send_photo(alice, BufferedInputFile(image, "chart.png"), caption="chart")
    assert photo.photo is not None and photo.photo[-1].width == 6
    got = await bot.download(photo.photo[-1].file_id, destination=io.BytesIO())
    assert got is not None and got.getvalue() == image

    report = b"model card\n"
    doc = await bot.send_document(
        alice, BufferedInputFile(report, "card.txt"), reply_markup=keyboard("ok")
    )
    assert doc.document is not None and doc.document.file_name == "card.txt"
    file = await bot.get_file(doc.document.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.getvalue() == report

    group = await bot.send_media_group(
        alice,
        [
            InputMediaDocument(media=BufferedInputFile(b"1", "a.csv")),
            InputMediaDocument(media=BufferedInputFile(b"2", "b.csv"), caption="two"),
        ],
    )
    assert [m.document.file_name for m in group if m.document] == ["a.csv", "b.csv"]

    await sandbox.client.configure(max_download_bytes=5)
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(doc.document.file_id)


async def test_polling_conflict_and_rate_limit(
    sandbox: RunningSandbox, bot: Bot, alice: int
) -> None:
    updates = await bot.get_updates(timeout=1)
    assert updates[0].message is not None and updates[0].message.text == "/start"
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert await bot.get_updates(timeout=0) == []  # confirmed updates are gone

    other = make_bot(sandbox)
    try:
        first = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, 5)
        await asyncio.wait_for(second, 5)
    finally:
        await other.session.close()

    await sandbox.client.configure(rate_limit_per_chat=1)
    await bot.send_message(alice, "one")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(alice, "two")
    assert caught.value.retry_after == 1


async def test_dispatcher_conversation(sandbox: RunningSandbox, bot: Bot) -> None:
    """A whole aiogram bot (Dispatcher + handlers + polling) talks to a simulated user."""
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: AiogramMessage) -> None:
        await message.answer("Hello! Pick one:", reply_markup=keyboard("left", "right"))

    @dp.callback_query(F.data)
    async def pressed(query: CallbackQuery) -> None:
        await query.answer(f"you chose {query.data}")
        assert isinstance(query.message, AiogramMessage)
        await query.message.edit_text(f"Chosen: {query.data}")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        await sandbox.client.send("/start")
        view = await sandbox.client.wait_for_bot_messages(1, within=10)
        menu = view.bot_messages[0]
        assert menu.button_data == ["left", "right"]
        await sandbox.client.press(menu.message_id, "right")
        for _ in range(100):
            view = await sandbox.client.wait_idle(100, within=10)
            if view.callback_answers and view.bot_messages[0].edited:
                break
        assert view.callback_answers[0]["text"] == "you chose right"
        assert view.bot_messages[0].text == "Chosen: right"
        assert view.bot_messages[0].buttons == []
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 10)
