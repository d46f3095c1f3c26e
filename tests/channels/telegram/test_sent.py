"""What the channel keeps of the messages it sent (channels/telegram/sent.py, telegram.sqlite3):
rows older than a week are swept, and /forget deletes the user's — through the real bot against
the sandbox Bot API, the menu row of the very message that asked."""

from __future__ import annotations

import time
from pathlib import Path

from statbot.channels.telegram.sent import RETENTION_S, SentMessages
from statbot.engine.replies import Option, Reply
from statbot.engine.texts import FORGOTTEN
from tests.channels.telegram.conftest import BotInSandbox


def test_rows_older_than_the_retention_are_swept(tmp_path: Path) -> None:
    sent = SentMessages(tmp_path / "telegram.sqlite3")
    try:
        sent.put_menu(1, 10, Reply.ask("Pick one", [Option("a", "A")]))
        sent.put_progress(1, "job-1", 11, "Training… 40%")
        sent.sweep(now=time.time() + RETENTION_S - 60)  # not yet a week old: kept
        assert sent.get_menu(1, 10) is not None and sent.get_progress(1, "job-1") is not None
        sent.sweep(now=time.time() + RETENTION_S + 60)
        assert sent.get_menu(1, 10) is None and sent.get_progress(1, "job-1") is None
    finally:
        sent.close()


async def test_forget_deletes_the_menus_of_the_users_chat(bot: BotInSandbox) -> None:
    client = bot.client
    await client.send("/forget")
    chat = await client.wait_for_bot_messages(1)
    ask = chat.bot_messages[-1]
    assert ask.buttons, f"expected the Yes / No menu, got {ask.text!r}"
    chat_id = int(chat.raw["chat_id"])
    sent = bot.app.channel.sent
    assert sent.get_menu(chat_id, ask.message_id) is not None  # kept while it is answerable
    yes = next(b for b in ask.button_data if b.startswith("o:"))
    await client.press(ask.message_id, yes)
    chat = await client.wait_for_text(FORGOTTEN.split(" — ")[0], within=20)
    assert sent.get_menu(chat_id, ask.message_id) is None
