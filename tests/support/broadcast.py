"""Helpers for the /broadcast tests through the sandbox (issue 12): users in the sandbox and
rows in the catalog, and what the sandbox recorded of the bot's messages."""

from __future__ import annotations

from pathlib import Path

from statbot.access.catalog import Catalog
from statbot.access.models import User
from statbot.sandbox.client import SandboxClient
from statbot.sandbox.state import SandboxState


async def sandbox_users(client: SandboxClient, total: int) -> list[int]:
    """``total`` sandbox users (the four defaults and more), each having started the bot."""
    ids = [int(u["id"]) for u in await client.users()]
    for n in range(len(ids), total):
        ids.append(await client.add_user(f"User{n}"))
    for uid in ids[:total]:
        await client.send("/start", user_id=uid)
    return ids[:total]


def catalog_rows(url_or_catalog: str | Catalog, ids: list[int], admin: int) -> None:
    """A user row for each id (the roles helper writes them on first contact; here directly):
    ``admin`` an admin, the rest viewers."""
    catalog = Catalog(url_or_catalog) if isinstance(url_or_catalog, str) else url_or_catalog
    if isinstance(url_or_catalog, str):
        catalog.upgrade()
    try:
        with catalog.session() as s:
            for uid in ids:
                role = "admin" if uid == admin else "viewer"
                # merge: the bot may have written the row on first contact already
                s.merge(User(id=uid, name=f"u{uid}", role=role, first_seen=1.0, last_seen=1.0))
    finally:
        if isinstance(url_or_catalog, str):
            catalog.close()


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'catalog.sqlite'}"


def received(state: SandboxState, text: str) -> dict[int, list[float]]:
    """chat id → when each bot message whose text is ``text`` arrived (sandbox clock)."""
    found: dict[int, list[float]] = {}
    for chat in state.chats.values():
        times = [m.sent_at for m in chat.messages.values() if m.from_bot and m.text == text]
        if times:
            found[chat.id] = sorted(times)
    return found


def most_in_one_second(times: list[float]) -> int:
    """The most arrivals in any window of one second, [t, t + 1)."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def press_starting(client: SandboxClient, user_id: int, start: str) -> str:
    """Press the newest button whose label starts with ``start``; returns its label."""
    chat = await client.chat(user_id=user_id)
    for message in reversed(chat.bot_messages):
        for row in message.buttons:
            for button in row:
                if str(button.get("text", "")).startswith(start):
                    await client.press(message.message_id, button["callback_data"], user_id=user_id)
                    return str(button["text"])
    raise AssertionError(f"no button starting with {start!r}")


async def wait_new_text(client: SandboxClient, user_id: int, after: int, needle: str) -> int:
    """Until a bot message newer than message ``after`` contains ``needle`` and the chat is
    idle (a press before the bot has stored the menu it just sent would be stale); its id."""
    for _ in range(100):
        chat = await client.wait(
            bot_messages=1, after_message_id=after, idle_ms=300, user_id=user_id, within=30
        )
        for message in chat.bot_messages:
            if message.message_id > after and needle in (message.text or ""):
                return message.message_id
        after_seq = chat.seq
        await client.wait(changed_since=after_seq, user_id=user_id, within=30)
    raise AssertionError(f"no new message with {needle!r}")


async def confirm_broadcast(client: SandboxClient, admin: int, text: str) -> None:
    """The admin sends ``/broadcast text`` to all users and confirms it."""
    chat = await client.chat(user_id=admin)
    last = max((m.message_id for m in chat.messages), default=0)
    await client.send(f"/broadcast {text}", user_id=admin)
    last = await wait_new_text(client, admin, last, "Who should receive it?")
    await press_starting(client, admin, "All users (")
    await wait_new_text(client, admin, last, "Send it?")
    await press_starting(client, admin, "Send to ")
