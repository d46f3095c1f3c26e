"""Full /train → /predict through the real bot (PTB client, ingress, sender, engine, jobs in
subprocesses) against the sandbox Bot API over HTTP: uploads, button presses, the progress bar
edited in place, charts as photos, predictions as a CSV document."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable

from statbot.channels.sandbox.client import ChatView, SandboxClient
from tests.channels.telegram.conftest import BotInSandbox


def iris_csv(drop_target: bool = False) -> bytes:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame["species"] = frame.pop("target").map({0: "setosa", 1: "versicolor", 2: "virginica"})
    if drop_target:
        frame = frame.drop(columns=["species"]).head(12)
    return frame.to_csv(index=False).encode()


async def press_label(client: SandboxClient, chat: ChatView, label: str) -> None:
    for message in reversed(chat.bot_messages):
        for row in message.buttons:
            for button in row:
                if button["text"].lower().startswith(label.lower()):
                    await client.press(message.message_id, button["callback_data"])
                    return
    raise AssertionError(f"no button {label!r} in {[m.text for m in chat.bot_messages[-3:]]}")


async def wait_for_text(client: SandboxClient, needle: str, within: float = 120) -> ChatView:
    """Poll until some bot message contains ``needle`` (training runs in a subprocess)."""
    import time

    deadline = time.monotonic() + within
    while True:
        chat = await client.wait_idle(300, within=within)
        if any(needle in (m.text or m.caption or "") for m in chat.bot_messages):
            return await client.wait_idle(800, within=within)
        if time.monotonic() > deadline:
            texts = [m.text for m in chat.bot_messages[-4:]]
            raise AssertionError(f"no message with {needle!r} after {within} s: {texts}")
        await asyncio.sleep(0.3)


def _fingerprint(chat: ChatView) -> set[tuple[int, object]]:
    return {(m.message_id, m.raw.get("edits", 0)) for m in chat.bot_messages}


async def do(client: SandboxClient, action: Awaitable[object], within: float = 20) -> ChatView:
    """Perform a user action, then wait for the bot's answer (a new message or an edit)."""
    seen = _fingerprint(await client.chat())
    await action
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        chat = await client.wait_idle(250, within=within)
        if _fingerprint(chat) != seen:
            return await client.wait_idle(250, within=within)
        await asyncio.sleep(0.1)
    raise AssertionError("the bot did not answer")


async def test_train_then_predict(bot: BotInSandbox) -> None:
    client = bot.client
    await do(client, client.send("/train"))
    chat = await do(client, client.upload(iris_csv(), "iris.csv"))
    assert "Column types" in (chat.bot_messages[-1].text or "")
    chat = await do(client, press_label(client, chat, "Looks right"))
    chat = await do(client, client.send("specis"))  # a typo gets a suggestion, nothing moves
    assert "Did you mean 'species'" in (chat.bot_messages[-1].text or "")
    chat = await do(client, client.send("species"))
    assert "learn from" in (chat.bot_messages[-1].text or "")
    chat = await do(client, press_label(client, chat, "Done"))
    chat = await do(client, client.send("random forest"))  # typed where buttons were offered
    await press_label(client, chat, "Train")
    chat = await wait_for_text(client, "Model trained")
    texts = [m.text or m.caption or "" for m in chat.bot_messages]
    report = next(t for t in texts if "Model trained" in t)
    assert "accuracy" in report and "statbot analyze train" in report
    bars = [m for m in chat.bot_messages if (m.text or "").startswith(("█", "░"))]
    assert len(bars) == 1 and bars[0].edited and "100%" in (bars[0].text or ""), "one bar, edited"
    assert any(m.photo for m in chat.bot_messages), "charts come as photos"

    chat = await do(client, client.send("/predict"))
    chat = await do(client, press_label(client, chat, "latest"))
    await client.upload(iris_csv(drop_target=True), "new.csv")
    chat = await wait_for_text(client, "predictions of", within=60)
    document = chat.bot_messages[-1].document
    assert document is not None, [m.text for m in chat.bot_messages[-3:]]
    rows = list(csv.DictReader(io.StringIO((await client.download(document["url"])).decode())))
    assert len(rows) == 12 and rows[0]["prediction"] == "setosa"
    assert any(k.startswith("proba_") for k in rows[0])
