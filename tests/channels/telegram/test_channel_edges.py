"""The Telegram channel's edges, with the real app against the sandbox over HTTP: private bots
refuse strangers, files too big for the cloud API, 429 bursts, stale buttons, and webhook mode
with a duplicated delivery."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from statbot.app import StatbotApp
from statbot.channels.telegram.ingress import REFUSAL
from statbot.channels.telegram.parse import CHANNEL
from statbot.engine.events import ConversationKey
from statbot.engine.replies import Option, OutboxItem, Reply
from statbot.engine.session import Session
from statbot.engine.texts import STALE_MENU
from statbot.sandbox.client import ChatView, SandboxClient
from statbot.sandbox.server import RunningSandbox
from statbot.sandbox.state import FIRST_USER_ID
from tests.channels.telegram.conftest import BotInSandbox, bot_settings
from tests.support.sandbox_user import do, press_label

ALICE, BOB = FIRST_USER_ID, FIRST_USER_ID + 1
SMALL_CSV = ("x,y,label\n" + "".join(f"{i},{i % 5},{'ab'[i % 2]}\n" for i in range(30))).encode()


def texts_of(chat: ChatView) -> list[str]:
    return [m.text or m.caption or "" for m in chat.bot_messages]


async def session_of(app: StatbotApp, user_id: int) -> Session | None:
    assert app.store is not None
    return await app.store.load(ConversationKey(CHANNEL, user_id, user_id))


async def reply_to(client: SandboxClient, action: Awaitable[object], user_id: int) -> ChatView:
    """Perform an action as ``user_id`` and wait for the bot's answer in that user's chat."""
    since = await client.chat(user_id=user_id)
    await action
    return await client.wait_for_reply(since, idle_ms=400, within=15, user_id=user_id)


async def test_strangers_are_refused_and_nothing_runs(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = bot_settings(sandbox.api_url, tmp_path / "data", allowed_users=(ALICE,))
    async with StatbotApp(settings) as app:
        client = sandbox.client
        chat = await reply_to(client, client.send("/train", user_id=BOB), BOB)
        assert texts_of(chat) == [REFUSAL]
        chat = await reply_to(client, client.send("hello", user_id=BOB), BOB)
        assert texts_of(chat) == [REFUSAL, REFUSAL]
        assert await session_of(app, BOB) is None  # nothing ran for Bob
        chat = await do(client, client.send("/train"))  # Alice is allowed
        assert "Let's train a model" in texts_of(chat)[-1]
        alice = await session_of(app, ALICE)
        assert alice is not None and (alice.workflow, alice.state) == ("train", "data")


async def test_file_too_big_for_telegram_suggests_a_server_path(bot: BotInSandbox) -> None:
    client = bot.client
    await client.configure(max_download_bytes=1000)  # getFile: "file is too big"
    await do(client, client.send("/train"))
    chat = await do(client, client.upload(SMALL_CSV * 10, "big.csv"))
    said = texts_of(chat)[-1]
    assert "can only download files up to" in said and "send me its path" in said, said
    await client.configure(max_download_bytes=20 * 2**20)
    chat = await do(client, client.upload(SMALL_CSV, "small.csv"))  # the step is still open
    assert "Column types" in texts_of(chat)[-1]


async def test_declared_size_over_the_download_limit(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = bot_settings(sandbox.api_url, tmp_path / "data", max_download_mb=0.001)
    async with StatbotApp(settings):
        client = sandbox.client
        await do(client, client.send("/train"))
        chat = await do(client, client.upload(SMALL_CSV * 10, "big.csv"))
        said = texts_of(chat)[-1]
        assert "0.001 MB" in said and "send me its path" in said, said
        chat = await do(client, client.send("/cancel"))
        assert "Cancelled" in texts_of(chat)[-1]


async def test_burst_under_429_arrives_once_in_order(bot: BotInSandbox) -> None:
    client = bot.client
    await client.configure(rate_limit_per_chat=1)
    commands = ["/help", "/cancel", "/back", "/help", "/cancel", "/back"]
    expected = {"/help": "/train", "/cancel": "nothing to cancel", "/back": "nothing to go back"}
    for command in commands:
        await client.send(command)
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await client.send("/cancel", user_id=BOB)  # another chat is not held up by Alice's 429s
    bob = await client.wait_for_bot_messages(1, user_id=BOB, within=10)
    bob_took = time.monotonic() - started
    chat = await client.wait_for_bot_messages(len(commands), within=30)
    chat = await client.wait_idle(1500, within=30)
    got = texts_of(chat)
    assert len(got) == len(commands), got
    for command, text in zip(commands, got, strict=True):
        assert expected[command] in text, (command, text)
    assert "nothing to cancel" in texts_of(bob)[0]
    assert bob_took < 3.0, f"Bob waited {bob_took:.1f} s behind Alice's rate limit"
    alice_took = time.monotonic() - started
    assert alice_took > bob_took, "Alice's replies were paced"
    refused = bot.app.metrics.api_errors.labels(code="429")._value.get()
    assert refused >= 1, "the sandbox answered 429 at least once"


async def test_a_stale_button_is_answered_with_the_current_prompt(bot: BotInSandbox) -> None:
    client = bot.client
    await do(client, client.send("/train"))
    chat = await do(client, client.upload(SMALL_CSV, "small.csv"))
    old = chat.bot_messages[-1]
    assert "Column types" in (old.text or "") and old.button_data
    chat = await do(client, press_label(client, chat, "Looks right"))
    prompt = texts_of(chat)[-1]
    assert "predict" in prompt.lower(), prompt  # now at the target step
    chat = await do(client, client.press(old.message_id, old.button_data[0]))
    said = texts_of(chat)
    assert STALE_MENU in said[-2] and said[-1] == prompt, said[-3:]
    session = await session_of(bot.app, ALICE)
    assert session is not None and session.state == "target"
    # After the conversation is over, the old menu is out of date too; nothing restarts.
    await do(client, client.send("/cancel"))
    chat = await do(client, client.press(old.message_id, old.button_data[0]))
    assert STALE_MENU in "\n".join(texts_of(chat)[-2:]), texts_of(chat)[-2:]
    session = await session_of(bot.app, ALICE)
    assert session is not None and session.workflow is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def doubling_proxy() -> AsyncIterator[tuple[str, list[int], dict[str, str]]]:
    """A hop in front of the bot's webhook that delivers every update twice (as Telegram does
    when it misses an acknowledgement). Yields its URL, the statuses the bot answered, and the
    target to fill in."""
    target: dict[str, str] = {}
    statuses: list[int] = []
    http = aiohttp.ClientSession()

    async def relay(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")
        }
        status = 0
        for _ in range(2):
            async with http.post(target["url"], data=body, headers=headers) as response:
                status = response.status
                statuses.append(status)
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/hook", relay)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/hook", statuses, target
    finally:
        await runner.cleanup()
        await http.close()


async def test_webhook_mode_applies_a_duplicated_update_once(
    sandbox: RunningSandbox,
    tmp_path: Path,
    doubling_proxy: tuple[str, list[int], dict[str, str]],
) -> None:
    proxy_url, statuses, target = doubling_proxy
    port = free_port()
    target["url"] = f"http://127.0.0.1:{port}/hook"
    settings = bot_settings(
        sandbox.api_url,
        tmp_path / "data",
        webhook_url=proxy_url,
        webhook_secret="wh-secret_123",
        webhook_listen="127.0.0.1",
        webhook_port=port,
    )
    async with StatbotApp(settings) as app:
        assert app.channel.webhook is not None and app.channel.poller is None
        client: SandboxClient = sandbox.client
        chat = await do(client, client.send("/start"))
        chat = await client.wait_idle(800, within=10)
        assert len(chat.bot_messages) == 1, texts_of(chat)
        assert "/train" in texts_of(chat)[0]
        chat = await do(client, client.send("/train"))
        chat = await client.wait_idle(800, within=10)
        assert len(chat.bot_messages) == 2 and "Let's train" in texts_of(chat)[1]
        chat = await do(client, client.upload(SMALL_CSV, "small.csv"))
        chat = await do(client, press_label(client, chat, "Looks right"))
        chat = await client.wait_idle(800, within=10)
        assert [t for t in texts_of(chat) if "Column types" in t] != []
        assert sum("Column types" in t for t in texts_of(chat)) == 1
        assert "predict" in texts_of(chat)[-1].lower()
        session = await session_of(app, ALICE)
        assert session is not None and session.state == "target"
        assert statuses and all(s == 200 for s in statuses) and len(statuses) % 2 == 0


async def test_long_replies_arrive_whole(bot: BotInSandbox) -> None:
    """Replies over Telegram's 4096 UTF-16 units (astral emoji count twice) are split, never
    refused and dropped; a long menu text arrives whole, its buttons under the last part."""
    client = bot.client
    await do(client, client.send("/start"))
    key = str(ConversationKey(CHANNEL, ALICE, ALICE))
    words = [f"🌡️{i:04d}" for i in range(900)]  # 900 × 7 code points, 8 UTF-16 units each
    menu = dataclasses.replace(Reply.ask(" ".join(words), [Option("go", "Go on")]), token="t1")
    replies = [Reply.say(" ".join(words)), menu]
    items = [OutboxItem(key, n, f"e{n}", r) for n, r in enumerate(replies, start=1)]
    done = await bot.app.channel.deliver(key, items)
    assert list(done) == [1, 2]
    chat = await client.wait_idle(500, within=15)
    shown = " ".join(texts_of(chat))
    missing = [w for w in words if w not in shown]
    assert missing == [] and shown.count(words[-1]) == 2, f"{len(missing)} words lost"
    assert chat.bot_messages[-1].buttons, "the menu's buttons come with its last part"


def _strays(root: Path) -> list[Path]:
    return [p for p in root.rglob("*evil*") if "staging" not in p.parts]


async def test_hostile_document_names(bot: BotInSandbox, tmp_path: Path) -> None:
    """A document's file name is the sender's to choose: it never leaves the staging folder."""
    client = bot.client
    for name in ("../../../evil.csv", "..", "a\\..\\..\\evil.csv", "evil\n.csv"):
        await do(client, client.send("/train"))
        chat = await do(client, client.upload(SMALL_CSV, name))
        said = texts_of(chat)[-1]
        assert "Column types" in said and "30 rows" in said, (name, said)
        await do(client, client.send("/cancel"))
    assert await asyncio.to_thread(_strays, tmp_path) == []


async def test_a_long_menu_under_429_arrives_once(bot: BotInSandbox) -> None:
    """Flood control between the parts of a long menu: the retry resumes, no part twice."""
    client = bot.client
    await do(client, client.send("/start"))
    await client.configure(rate_limit_per_chat=1)
    key = str(ConversationKey(CHANNEL, ALICE, ALICE))
    words = [f"🌡️{i:04d}" for i in range(1200)]  # three messages' worth
    menu = dataclasses.replace(Reply.ask(" ".join(words), [Option("go", "Go on")]), token="t2")
    done = await bot.app.channel.deliver(key, [OutboxItem(key, 1, "e1", menu)])
    assert list(done) == [1]
    chat = await client.wait_idle(500, within=15)
    shown = " ".join(texts_of(chat)[1:])
    assert all(shown.count(w) == 1 for w in words), "a part was lost or sent twice"
    assert chat.bot_messages[-1].buttons and len(chat.bot_messages) == 1 + 3
    assert bot.app.metrics.api_errors.labels(code="429")._value.get() >= 1
