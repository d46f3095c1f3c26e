"""Expiry → grace → deletion takes the session's stored datasets with it, and /forget the
channel's menus of the user's chat (DESIGN promise 4)."""

from __future__ import annotations

import time

from statbot.engine.texts import FORGET_YES_OPT
from tests.channels.telegram.conftest import BotInSandbox
from tests.support.sandbox_user import do, iris_csv


async def test_deleted_session_takes_its_datasets(bot: BotInSandbox) -> None:
    client = bot.client
    await do(client, client.send("/train"))
    await do(client, client.upload(iris_csv(), "iris.csv"))
    data_dir = bot.app.data_dir
    stored = list((data_dir / "datasets").rglob("*.parquet"))
    assert len(stored) == 1
    manager = bot.app.manager
    later = time.time() + 2 * 3600  # past the 60-minute idle timeout: into the grace period
    assert (await manager.sweep(now=later))["to_grace"] == 1
    assert stored[0].exists(), "still resumable in the grace period"
    much_later = later + 2 * 24 * 3600  # past the grace period: deleted
    assert (await manager.sweep(now=much_later))["deleted"] == 1
    assert not stored[0].exists()


async def test_forget_deletes_the_menus_of_the_users_chat(bot: BotInSandbox) -> None:
    client = bot.client
    await client.send("/forget")
    chat = await client.wait_for_bot_messages(1)
    ask = chat.bot_messages[-1]
    assert ask.buttons, f"expected the Yes / No menu, got {ask.text!r}"
    chat_id = int(chat.raw["chat_id"])
    sent = bot.app.channel.sent_messages
    assert sent.get_menu(chat_id, ask.message_id) is not None  # kept while it is answerable
    yes = next(
        b["callback_data"] for row in ask.buttons for b in row if b["text"] == FORGET_YES_OPT.label
    )
    await client.press(ask.message_id, yes)
    await client.wait_for_text("I deleted everything I kept about you", within=20)
    assert sent.get_menu(chat_id, ask.message_id) is None
