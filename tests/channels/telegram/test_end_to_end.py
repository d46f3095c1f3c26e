from __future__ import annotations

import csv
import io

from tests.channels.telegram.conftest import BotInSandbox


def _csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["price", "rooms", "city"])
    for i in range(30):
        writer.writerow([100 + i * 3.5, i % 5 + 1, ["Oslo", "Bergen"][i % 2]])
    return out.getvalue().encode()


async def test_start_greets_and_registers_commands(bot: BotInSandbox) -> None:
    client = bot.client
    await client.send("/start")
    chat = await client.wait_for_bot_messages(1)
    greeting = chat.bot_messages[-1].text or ""
    assert "/describe" in greeting
    assert any(c["command"] == "describe" for c in chat.commands)


async def test_describe_conversation_with_upload_and_buttons(bot: BotInSandbox) -> None:
    client = bot.client
    await client.send("/describe")
    chat = await client.wait_for_bot_messages(1)
    last = chat.bot_messages[-1].message_id
    await client.upload(_csv(), "houses.csv")
    chat = await client.wait_for_bot_messages(1, after_message_id=last, within=20)
    chat = await client.wait_idle(300, within=20)
    menu = chat.bot_messages[-1]
    assert menu.buttons, f"expected a column menu, got {menu.text!r}"
    # Tick 'price' (first option), then Done.
    first = menu.buttons[0][0]["callback_data"]
    await client.press(menu.message_id, first)
    chat = await client.wait_idle(400, within=10)
    done = [
        b["callback_data"]
        for row in chat.bot_messages[-1].buttons
        for b in row
        if b["callback_data"] == "d:"
    ]
    assert done
    await client.press(chat.bot_messages[-1].message_id, "d:")
    chat = await client.wait_idle(500, within=20)
    texts = "\n".join(m.text or m.caption or "" for m in chat.bot_messages)
    assert "price" in texts and "mean" in texts
    documents = [m.document for m in chat.bot_messages if m.document]
    assert documents, "the table comes back as a CSV document"
    assert chat.callback_answers, "every press is answered"
