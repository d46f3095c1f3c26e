"""/broadcast through the sandbox (issue 12): the real bot (PTB client, our sender and its rate
limiter, the engine, the catalog) over real HTTP. Each recipient gets each broadcast once and in
the order sent; a user who blocked the bot (the sandbox answers 403) is recorded as blocked; no
second of the sandbox's log holds more than Telegram's 30 bulk messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from statbot.access.models import BroadcastRecipient, User
from statbot.app import StatbotApp
from statbot.sandbox.server import RunningSandbox
from statbot.sandbox.state import FIRST_USER_ID
from tests.channels.telegram.conftest import BotInSandbox, bot_settings
from tests.support.broadcast import (
    catalog_rows,
    confirm_broadcast,
    most_in_one_second,
    received,
    sandbox_users,
)

USERS = 40


@pytest.fixture
async def bot(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[BotInSandbox]:
    """The bot with the sandbox's first user (Alice, the admin here) as its owner."""
    settings = bot_settings(sandbox.api_url, tmp_path / "data", owner_ids=(FIRST_USER_ID,))
    async with StatbotApp(settings) as app:
        yield BotInSandbox(sandbox, app)


async def test_each_recipient_gets_each_broadcast_once_in_order_within_the_limit(
    bot: BotInSandbox,
) -> None:
    client = bot.client
    ids = await sandbox_users(client, USERS)
    admin, quitter = ids[0], ids[7]
    assert admin == FIRST_USER_ID
    catalog = bot.app.core.services.catalog  # type: ignore[union-attr]
    assert catalog is not None
    catalog_rows(catalog, ids, admin)
    for uid in ids:  # every greeting out before the broadcasts start
        await client.wait_for_bot_messages(1, user_id=uid, within=30)
    await client.block(user_id=quitter)  # through the control API: 403 from now on

    await confirm_broadcast(client, admin, "First: maintenance at noon.")
    await client.wait_for_text("Broadcast #1 is going out", user_id=admin, within=20)
    # Confirmed while the first is going out: the user who blocked the bot is in its audience
    # unless the first has recorded them blocked by then (not asked again until they write).
    await confirm_broadcast(client, admin, "Second: we are back.")
    chat = await client.wait_for_text("Broadcast #2 finished", user_id=admin, within=60)
    with catalog.session() as s:
        asked_again = s.get(BroadcastRecipient, (2, quitter)) is not None
    reports = [m.text for m in chat.bot_messages if "finished:" in (m.text or "")]
    assert reports == [
        f"Broadcast #1 finished: sent to {USERS - 1}, 1 blocked the bot, 0 failed.",
        f"Broadcast #2 finished: sent to {USERS - 1}, {int(asked_again)} blocked the bot, "
        "0 failed.",
    ]

    state = bot.sandbox.state
    first = received(state, "First: maintenance at noon.")
    second = received(state, "Second: we are back.")
    reached = sorted(set(ids) - {quitter})
    assert sorted(first) == sorted(second) == reached
    # The admin also saw each text once as the preview before confirming.
    preview = {admin: 1}
    assert all(len(first[u]) == len(second[u]) == 1 + preview.get(u, 0) for u in reached)
    assert all(first[u][-1] < second[u][-1] for u in reached)  # in the order sent
    for found in (first, second):
        found[admin] = found[admin][1:]

    with catalog.session() as s:
        states = s.execute(
            sa.select(BroadcastRecipient.user_id, BroadcastRecipient.state).where(
                BroadcastRecipient.broadcast_id == 1
            )
        ).all()
        assert {uid for uid, st in states if st == "blocked"} == {quitter}
        assert {uid for uid, st in states if st == "sent"} == set(reached)
        assert s.get(User, quitter).unreachable_since is not None  # type: ignore[union-attr]
        assert s.get(User, ids[1]).unreachable_since is None  # type: ignore[union-attr]

    # Pacing, counted in the sandbox's log: 2 x 39 bulk messages, never over 30 in a second.
    times = [t for found in (first, second) for ts in found.values() for t in ts]
    assert len(times) == 2 * (USERS - 1)
    assert most_in_one_second(times) <= 30
    assert most_in_one_second(times) >= 10  # paced, not trickled one by one (sanity)
