"""A person in the sandbox's chat: actions (send, upload, press a button) and waits for the
bot's answer, over the sandbox's control API (real HTTP), whichever bot is behind it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from statbot.sandbox.client import ChatView, SandboxClient


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


async def wait_for_text(
    client: SandboxClient, needle: str, within: float = 120, *, count: int = 1
) -> ChatView:
    """Poll until ``count`` bot messages contain ``needle`` (training runs in a subprocess)."""
    import time

    deadline = time.monotonic() + within
    while True:
        chat = await client.wait_idle(300, within=within)
        if sum(needle in (m.text or m.caption or "") for m in chat.bot_messages) >= count:
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
