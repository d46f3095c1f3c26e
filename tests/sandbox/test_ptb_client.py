"""The real python-telegram-bot client against the sandbox: it must not notice the difference."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.request import HTTPXRequest

from statbot.sandbox import RunningSandbox

from .conftest import TOKEN, png_bytes


@pytest.fixture
async def bot(sandbox: RunningSandbox) -> AsyncIterator[telegram.Bot]:
    api = sandbox.api_url
    async with telegram.Bot(
        TOKEN, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot"
    ) as client:
        yield client


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.upper(), callback_data=d)] for d in data])


async def test_get_me_is_a_plausible_bot(bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.id == 123456 and me.username == "statbot_sandbox_bot"


async def test_unknown_token_is_rejected(sandbox: RunningSandbox) -> None:
    api = sandbox.api_url
    request = HTTPXRequest()
    stranger = telegram.Bot(
        "999:WRONG", base_url=f"{api}/bot", base_file_url=f"{api}/file/bot", request=request
    )
    try:
        with pytest.raises(InvalidToken):
            await stranger.get_me()
    finally:
        await request.shutdown()


async def test_send_edit_and_keyboard_roundtrip(
    sandbox: RunningSandbox, bot: telegram.Bot, alice: int
) -> None:
    sent = await bot.send_message(
        alice, "<b>Pick</b> a model", parse_mode="HTML", reply_markup=keyboard("rf", "ols")
    )
    assert sent.text == "Pick a model"
    assert sent.entities[0].type == "bold" and sent.entities[0].length == 4
    assert sent.reply_markup.inline_keyboard[1][0].callback_data == "ols"

    edited = await bot.edit_message_text("Training… 50%", chat_id=alice, message_id=sent.message_id)
    assert edited.edit_date >= sent.date and edited.reply_markup is None
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Training… 50%", chat_id=alice, message_id=sent.message_id)

    await bot.edit_message_reply_markup(alice, sent.message_id, reply_markup=keyboard("next"))
    view = await sandbox.client.chat()
    latest = view.bot_messages[-1]
    assert latest.text == "Training… 50%" and latest.edited
    assert latest.button_data == ["next"]


async def test_bad_html_is_a_bad_request(bot: telegram.Bot, alice: int) -> None:
    with pytest.raises(BadRequest, match=r'parse entities.*start tag "br"'):
        await bot.send_message(alice, "one<br>two", parse_mode="HTML")
    with pytest.raises(BadRequest, match="end tag corresponding"):
        await bot.send_message(alice, "<b>open", parse_mode="HTML")
    with pytest.raises(BadRequest, match="reserved"):
        await bot.send_message(alice, "3.14", parse_mode="MarkdownV2")


async def test_callback_data_over_64_bytes_is_refused(bot: telegram.Bot, alice: int) -> None:
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(alice, "x", reply_markup=keyboard("é" * 33))


async def test_bot_cannot_write_first(sandbox: RunningSandbox, bot: telegram.Bot) -> None:
    bob = (await sandbox.client.users())[1]["id"]
    with pytest.raises(Forbidden):
        await bot.send_message(bob, "hello")
    with pytest.raises(BadRequest, match="not found"):
        await bot.send_message(42, "hello")


async def test_photos_documents_and_downloads(
    sandbox: RunningSandbox, bot: telegram.Bot, alice: int
) -> None:
    image = png_bytes(8, 5)
    photo_message = await bot.send_photo(
        alice, image, caption="<i>chart</i>", parse_mode="HTML", reply_markup=keyboard("again")
    )
    size = photo_message.photo[-1]
    assert (size.width, size.height) == (8, 5)
    assert photo_message.caption == "chart"
    downloaded = await (await bot.get_file(size.file_id)).download_as_bytearray()
    assert bytes(downloaded) == image

    csv = b"x,y\n1,2\n3,4\n"
    doc_message = await bot.send_document(
        alice, csv, filename="data.csv", caption="your data", reply_markup=keyboard("ok")
    )
    assert doc_message.document.file_name == "data.csv"
    assert doc_message.document.file_size == len(csv)
    assert bytes(await (await bot.get_file(doc_message.document)).download_as_bytearray()) == csv

    again = await bot.send_document(alice, doc_message.document.file_id)
    assert again.document.file_id == doc_message.document.file_id

    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(alice, b"not an image")

    view = await sandbox.client.chat()
    assert view.bot_messages[0].photo["width"] == 8
    assert await sandbox.client.download(view.bot_messages[1].document["url"]) == csv


async def test_media_group_and_chat_actions(
    sandbox: RunningSandbox, bot: telegram.Bot, alice: int
) -> None:
    sent = await bot.send_media_group(
        alice, [InputMediaPhoto(png_bytes(2, 2)), InputMediaPhoto(png_bytes(3, 3), caption="b")]
    )
    assert len(sent) == 2 and sent[0].media_group_id == sent[1].media_group_id
    assert await bot.send_chat_action(alice, "upload_photo")
    with pytest.raises(BadRequest, match="action"):
        await bot.send_chat_action(alice, "dancing")
    assert await bot.delete_message(alice, sent[0].message_id)
    with pytest.raises(BadRequest, match="not found"):
        await bot.delete_message(alice, sent[0].message_id)
    view = await sandbox.client.chat()
    assert view.actions == ["upload_photo"]
    assert [m.message_id for m in view.bot_messages] == [sent[1].message_id]


async def test_file_too_big_for_get_file(
    sandbox: RunningSandbox, bot: telegram.Bot, alice: int
) -> None:
    await sandbox.client.upload(b"a,b\n" * 100, "big.csv")
    updates = await bot.get_updates(timeout=1)
    document = updates[-1].message.document
    assert document.file_name == "big.csv"
    await sandbox.client.configure(max_download_bytes=100)
    with pytest.raises(BadRequest, match="too big"):
        await bot.get_file(document.file_id)


async def test_long_polling_with_offsets_and_callbacks(
    sandbox: RunningSandbox, bot: telegram.Bot, alice: int
) -> None:
    first = await bot.get_updates(timeout=1)
    assert [u.message.text for u in first] == ["/start"]
    assert first[0].message.entities[0].type == "bot_command"
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [first[0].update_id]  # not confirmed yet

    poll = asyncio.create_task(bot.get_updates(offset=first[-1].update_id + 1, timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()  # long polling: waits for the next update
    await sandbox.client.send("hello")
    received = await asyncio.wait_for(poll, 5)
    assert [u.message.text for u in received] == ["hello"]

    menu = await bot.send_message(alice, "Choose", reply_markup=keyboard("a", "b"))
    await sandbox.client.press(menu.message_id, "b")
    updates = await bot.get_updates(offset=received[-1].update_id + 1, timeout=2)
    query = updates[-1].callback_query
    assert query.data == "b" and query.message.message_id == menu.message_id
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await query.answer("x" * 201)
    assert await query.answer("Saved")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer("twice")
    view = await sandbox.client.chat()
    assert view.callback_answers[0]["text"] == "Saved"


async def test_second_poller_kicks_the_first_with_409(
    bot: telegram.Bot, sandbox: RunningSandbox
) -> None:
    api = sandbox.api_url
    async with telegram.Bot(TOKEN, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot") as other:
        first = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, 5)
        assert await asyncio.wait_for(second, 5) == ()


async def test_rate_limit_gives_retry_after(
    sandbox: RunningSandbox, bot: telegram.Bot, alice: int
) -> None:
    await sandbox.client.configure(rate_limit_per_chat=2)
    await bot.send_message(alice, "1")
    await bot.send_message(alice, "2")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(alice, "3")
    assert "Retry in 1" in str(caught.value)
    await asyncio.sleep(1.05)
    assert (await bot.send_message(alice, "4")).text == "4"


async def test_commands_menu(sandbox: RunningSandbox, bot: telegram.Bot, alice: int) -> None:
    await bot.set_my_commands([("train", "Train a model"), ("help", "What I can do")])
    assert [c.command for c in await bot.get_my_commands()] == ["train", "help"]
    assert [c["command"] for c in (await sandbox.client.chat()).commands] == ["train", "help"]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([("Bad-Command", "x")])


async def test_commands_menu_per_chat_scope(
    sandbox: RunningSandbox, bot: telegram.Bot, alice: int
) -> None:
    """A private chat's scope wins over the default one, and deleting it falls back (issue 12's
    role menus rely on both)."""
    from telegram import BotCommandScopeChat

    await bot.set_my_commands([("help", "What I can do")])
    await bot.set_my_commands([("grant", "Give a role")], scope=BotCommandScopeChat(alice))
    scoped = await bot.get_my_commands(scope=BotCommandScopeChat(alice))
    assert [c.command for c in scoped] == ["grant"]
    assert [c.command for c in await bot.get_my_commands()] == ["help"]
    assert [c["command"] for c in (await sandbox.client.chat()).commands] == ["grant"]
    await bot.delete_my_commands(scope=BotCommandScopeChat(alice))
    assert await bot.get_my_commands(scope=BotCommandScopeChat(alice)) == ()
    assert [c["command"] for c in (await sandbox.client.chat()).commands] == ["help"]
    with pytest.raises(BadRequest, match="scope type"):
        await bot.set_my_commands([("help", "x")], scope={"type": "everyone"})  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.set_my_commands([("help", "x")], scope={"type": "chat"})  # type: ignore[arg-type]


async def test_webhook_delivery_with_secret(sandbox: RunningSandbox, bot: telegram.Bot) -> None:
    received: asyncio.Queue[tuple[str | None, dict[str, object]]] = asyncio.Queue()
    calls = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.Response(status=500)  # the sandbox retries, like Telegram
        await received.put(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await sandbox.client.configure(webhook_retry_seconds=0.05)
        await sandbox.client.send("queued before")
        assert await bot.set_webhook(
            f"http://127.0.0.1:{port}/hook", secret_token="s3cret", drop_pending_updates=True
        )
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        await sandbox.client.send("/train")
        secret, update = await asyncio.wait_for(received.get(), 5)
        assert secret == "s3cret"
        assert update["message"]["text"] == "/train"  # type: ignore[index]
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        assert "500" in (info.last_error_message or "")
        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
        assert await bot.get_updates() == ()
    finally:
        await runner.cleanup()
