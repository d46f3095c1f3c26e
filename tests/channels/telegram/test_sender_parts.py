"""A long text goes out as several messages; a 429 or a network error in the middle of them
must not send the parts already delivered a second time."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot
from telegram.constants import ParseMode

from statbot.channels.telegram.ratelimit import RateLimiter
from statbot.channels.telegram.render import split_text, to_html
from statbot.channels.telegram.sender import TelegramSender
from statbot.channels.telegram.sent import SentMessages
from statbot.engine.events import ConversationKey
from statbot.engine.replies import OutboxItem, Reply
from statbot.sandbox.server import RunningSandbox, run_sandbox
from statbot.sandbox.state import DEFAULT_TOKEN, SandboxConfig


@pytest.fixture
async def strict_sandbox() -> AsyncIterator[RunningSandbox]:
    # Telegram answers 429 when a chat gets messages faster than about one a second.
    async with run_sandbox(config=SandboxConfig(rate_limit_per_chat=2.0)) as running:
        yield running


async def test_a_429_between_parts_sends_each_part_once(
    strict_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    await strict_sandbox.client.send("hello")  # a bot cannot write first
    chat_id = int((await strict_sandbox.client.chat()).raw["chat_id"])
    bot = Bot(DEFAULT_TOKEN, base_url=f"{strict_sandbox.api_url}/bot")
    sent = SentMessages(tmp_path / "sent.sqlite3")
    # A limiter with a generous burst, so the sandbox (not our pacing) decides: a 429 arrives
    # after the first parts went out.
    sender = TelegramSender(bot, sent, limiter=RateLimiter(per_chat=100.0, chat_burst=100.0))
    parts = [f"part {i}\n" + "x" * 3500 for i in range(5)]
    reply = Reply.say("\n".join(parts))
    key = str(ConversationKey("telegram", chat_id, chat_id))
    try:
        async with bot:
            item = OutboxItem(key=key, seq=1, event_id="u1", reply=reply)
            # Resending from the first part after each 429 never ends: bounded here.
            done = await asyncio.wait_for(sender.deliver(key, [item]), 30)
    finally:
        sent.close()
    assert list(done) == [1]
    texts = [m.text for m in (await strict_sandbox.client.chat()).bot_messages]
    assert len(texts) == len(split_text(reply.text))
    joined = "".join(texts)
    assert re.findall(r"part \d", joined) == [f"part {i}" for i in range(5)]
    assert "".join(joined.split()) == "".join(reply.text.split())  # all of it, once, in order


class RecordingBot(Bot):  # type: ignore[misc]
    """Records each Bot API call as PTB would make it; answers like Telegram."""

    _calls: list[tuple[str, dict[str, Any], dict[str, Any]]]  # _: Bot is frozen otherwise

    async def _do_post(self, endpoint: str, data: dict[str, Any], **timeouts: Any) -> Any:
        self._calls.append((endpoint, dict(data), timeouts))
        chat = {"id": data.get("chat_id", 0), "type": "private"}
        return {"message_id": len(self._calls), "date": 0, "chat": chat, "text": "-"}


async def test_a_text_reply_posts_what_send_message_would(tmp_path: Path) -> None:
    # Text parts skip Bot.send_message (it builds a Message of an answer nothing reads), but
    # the request must be the same one.
    bot = RecordingBot(DEFAULT_TOKEN)
    bot._calls = []
    sent = SentMessages(tmp_path / "sent.sqlite3")
    try:
        sender = TelegramSender(bot, sent)
        key = str(ConversationKey("telegram", 42, 42))
        reply = Reply.say("*Hi* <there> " + "x" * 5000)  # markdown, HTML escaping, 2 parts
        done = await sender.deliver(key, [OutboxItem(key=key, seq=1, event_id="u1", reply=reply)])
        parts = split_text(reply.text)
        for part in parts:
            await bot.send_message(42, to_html(part), parse_mode=ParseMode.HTML)
    finally:
        sent.close()
    assert list(done) == [1] and len(parts) == 2
    assert bot._calls[:2] == bot._calls[2:]
    assert bot._calls[0][1]["text"].startswith("<b>Hi</b> &lt;there&gt;")
