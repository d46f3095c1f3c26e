"""The control API and Bot API details, driven with plain HTTP (as a hand-written bot would)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from statbot.sandbox import RunningSandbox, SandboxError, SandboxTimeout

from .conftest import TOKEN


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, sb: RunningSandbox, method: str, token: str = TOKEN, **params: Any
) -> dict[str, Any]:
    async with http.post(f"{sb.api_url}/bot{token}/{method}", json=params) as response:
        body: dict[str, Any] = await response.json()
        assert (response.status == 200) == body["ok"]
        return body


async def test_press_is_checked_against_the_keyboard(
    sandbox: RunningSandbox, http: aiohttp.ClientSession, alice: int
) -> None:
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
    sent = await call(
        http, sandbox, "sendMessage", chat_id=alice, text="Sure?", reply_markup=markup
    )
    message_id = sent["result"]["message_id"]
    with pytest.raises(SandboxError, match="offered: \\['yes'\\]"):
        await sandbox.client.press(message_id, "no")
    with pytest.raises(SandboxError) as caught:
        await sandbox.client.press(999, "yes")
    assert caught.value.status == 404
    update_id = await sandbox.client.press(message_id, "yes")
    updates = (await call(http, sandbox, "getUpdates", offset=update_id))["result"]
    assert updates[0]["callback_query"]["data"] == "yes"
    assert updates[0]["callback_query"]["message"]["text"] == "Sure?"


async def test_wait_helpers(
    sandbox: RunningSandbox, http: aiohttp.ClientSession, alice: int
) -> None:
    with pytest.raises(SandboxTimeout) as caught:
        await sandbox.client.wait_for_bot_messages(1, within=0.3)
    assert [m.text for m in caught.value.chat.messages] == ["/start"]

    async def bot_replies_later() -> None:
        await asyncio.sleep(0.2)
        for text in ("Working…", "Done"):
            await call(http, sandbox, "sendMessage", chat_id=alice, text=text)

    task = asyncio.create_task(bot_replies_later())
    view = await sandbox.client.wait_for_bot_messages(2, within=5)
    assert [m.text for m in view.bot_messages] == ["Working…", "Done"]
    await task
    idle = await sandbox.client.wait_idle(150, within=5)
    assert len(idle.bot_messages) == 2
    after = await sandbox.client.wait(bot_messages=1, after_message_id=2, within=0.2, user_id=alice)
    assert after.bot_messages[-1].text == "Done"
    with pytest.raises(SandboxTimeout, match="0/1 bot messages"):
        await sandbox.client.wait(bot_messages=1, after_message_id=3, within=0.2)


async def test_event_feed_follows_the_bot(
    sandbox: RunningSandbox, http: aiohttp.ClientSession, alice: int
) -> None:
    info = await sandbox.client.info()
    feed = asyncio.create_task(
        http.get(
            f"{sandbox.base_url}/_sandbox/events", params={"since": info["seq"], "timeout": "5"}
        )
    )
    await asyncio.sleep(0.1)
    await call(http, sandbox, "sendChatAction", chat_id=alice, action="typing")
    response = await asyncio.wait_for(feed, 5)
    body = await response.json()
    response.release()
    assert body["events"][0]["type"] == "action"
    assert body["events"][0]["action"]["action"] == "typing"


async def test_multipart_upload_reset_and_file_urls(
    sandbox: RunningSandbox, http: aiohttp.ClientSession, alice: int
) -> None:
    form = aiohttp.FormData()
    form.add_field("user_id", str(alice))
    form.add_field("caption", "my data")
    form.add_field("file", b"a,b\n1,2\n", filename="d.csv", content_type="text/csv")
    async with http.post(f"{sandbox.base_url}/_sandbox/uploads", data=form) as response:
        assert response.status == 200
    view = await sandbox.client.chat()
    document = view.messages[-1].document
    assert document is not None and document["file_name"] == "d.csv"
    assert view.messages[-1].caption == "my data"
    assert await sandbox.client.download(document["url"]) == b"a,b\n1,2\n"
    updates = (await call(http, sandbox, "getUpdates"))["result"]
    assert updates[-1]["message"]["document"]["mime_type"] == "text/csv"

    await sandbox.client.reset()
    assert (await sandbox.client.chat()).messages == []
    assert (await call(http, sandbox, "getUpdates"))["result"] == []
    with pytest.raises(SandboxError):
        await sandbox.client.download(document["url"])


async def test_offsets_allowed_updates_and_bots_are_separate(
    sandbox: RunningSandbox, http: aiohttp.ClientSession, alice: int
) -> None:
    for text in ("one", "two", "three"):
        await sandbox.client.send(text)
    last = (await call(http, sandbox, "getUpdates", offset=-2))["result"]
    assert [u["message"]["text"] for u in last] == ["two", "three"]
    assert len((await call(http, sandbox, "getUpdates", limit=1))["result"]) == 1

    other = await call(http, sandbox, "getUpdates", token="654321:OTHER")
    assert other["result"] == []  # Alice wrote to the first bot only
    me = await call(http, sandbox, "getMe", token="654321:OTHER")
    assert me["result"]["id"] == 654321

    only_buttons = await call(http, sandbox, "getUpdates", allowed_updates=["callback_query"])
    assert only_buttons["result"] == []
    info = await call(http, sandbox, "getWebhookInfo")
    assert info["result"]["pending_update_count"] == 0
    assert info["result"]["allowed_updates"] == ["callback_query"]


async def test_validation_errors(
    sandbox: RunningSandbox, http: aiohttp.ClientSession, alice: int
) -> None:
    empty = await call(http, sandbox, "sendMessage", chat_id=alice, text="  ")
    assert empty == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }
    long = await call(http, sandbox, "sendMessage", chat_id=alice, text="x" * 4097)
    assert long["description"] == "Bad Request: message is too long"
    text_button = {"inline_keyboard": [[{"text": "plain"}]]}
    bad = await call(
        http, sandbox, "sendMessage", chat_id=alice, text="x", reply_markup=text_button
    )
    assert "text buttons are unallowed" in bad["description"]
    missing = await call(http, sandbox, "sendMessage", text="x")
    assert missing["description"] == "Bad Request: chat_id is empty"
    unknown_file = await call(http, sandbox, "sendDocument", chat_id=alice, document="nope")
    assert unknown_file["description"] == "Bad Request: wrong file identifier/HTTP URL specified"
    edit = await call(http, sandbox, "editMessageText", chat_id=alice, message_id=1, text="x")
    assert edit["description"] == "Bad Request: message can't be edited"  # Alice's own /start

    await sandbox.client.configure(max_upload_bytes=10)
    form = aiohttp.FormData()
    form.add_field("chat_id", str(alice))
    form.add_field("document", b"x" * 11, filename="big.bin")
    async with http.post(f"{sandbox.api_url}/bot{TOKEN}/sendDocument", data=form) as response:
        assert response.status == 413
        assert (await response.json())["description"] == "Request Entity Too Large"


async def test_webhook_can_answer_with_a_method(
    sandbox: RunningSandbox, http: aiohttp.ClientSession, alice: int
) -> None:
    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        chat_id = update["message"]["chat"]["id"]
        return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": "pong"})

    app = web.Application()
    app.router.add_post("/", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        port = runner.addresses[0][1]
        assert (await call(http, sandbox, "setWebhook", url=f"http://127.0.0.1:{port}/"))["ok"]
        view = await sandbox.client.wait_for_bot_messages(1, within=5)
        assert view.bot_messages[0].text == "pong"  # the pending /start was delivered
        bad = await call(http, sandbox, "setWebhook", url="ftp://x", secret_token="ok")
        assert "bad webhook" in bad["description"]
    finally:
        await call(http, sandbox, "deleteWebhook")
        await runner.cleanup()


async def test_reply_text_and_label_helpers(
    sandbox: RunningSandbox, http: aiohttp.ClientSession, alice: int
) -> None:
    client = sandbox.client
    before = await client.chat()
    with pytest.raises(SandboxTimeout, match="no bot change since event"):
        await client.wait_for_reply(before, within=0.2)

    async def bot_works() -> None:
        markup = {"inline_keyboard": [[{"text": "Go on", "callback_data": "go"}]]}
        sent = await call(
            http, sandbox, "sendMessage", chat_id=alice, text="Step 1", reply_markup=markup
        )
        await asyncio.sleep(0.1)
        await call(
            http,
            sandbox,
            "editMessageText",
            chat_id=alice,
            message_id=sent["result"]["message_id"],
            text="Step 1 done",
            reply_markup=markup,
        )

    task = asyncio.create_task(bot_works())
    after = await client.wait_for_reply(before, idle_ms=300, within=5)
    await task
    assert after.bot_messages[-1].text == "Step 1 done" and after.seq > before.seq
    assert (await client.wait_for_text("1 done", within=1)).bot_messages[-1].edited
    with pytest.raises(SandboxTimeout, match="no bot message contains 'Step 2'"):
        await client.wait_for_text("Step 2", within=0.2)

    update_id = await client.press_label("Go on")
    updates = (await call(http, sandbox, "getUpdates", offset=update_id))["result"]
    assert updates[0]["callback_query"]["data"] == "go"
    with pytest.raises(SandboxError, match="buttons: \\['Go on'\\]"):
        await client.press_label("Stop")


async def test_a_user_who_blocked_the_bot_answers_403_until_they_write_again(
    sandbox: RunningSandbox, http: aiohttp.ClientSession, alice: int
) -> None:
    await sandbox.client.block(user_id=alice)
    body = await call(http, sandbox, "sendMessage", chat_id=alice, text="hello?")
    assert (body["error_code"], body["description"]) == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    refused = await call(http, sandbox, "sendChatAction", chat_id=alice, action="typing")
    assert refused["error_code"] == 403
    assert not (await sandbox.client.chat(user_id=alice)).bot_messages
    await sandbox.client.send("I am back", user_id=alice)  # writing unblocks, as in Telegram
    sent = await call(http, sandbox, "sendMessage", chat_id=alice, text="welcome back")
    assert sent["ok"] and sent["result"]["text"] == "welcome back"
    await sandbox.client.block(user_id=alice)
    await sandbox.client.block(user_id=alice, blocked=False)
    assert (await call(http, sandbox, "sendMessage", chat_id=alice, text="again"))["ok"]
