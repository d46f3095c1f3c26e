"""Issue 12 on the defaults: ``statbot run`` with no STATBOT_* setting but the ports and
STATBOT_OWNER_IDS. The owner grants another user a role over the sandbox (real HTTP), and that
user's BotFather menu (setMyCommands in their chat's scope, read back as the sandbox shows it)
and what the bot lets them run change with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from statbot.sandbox.client import SandboxClient
from tests.e2e.test_first_run import wait_ready
from tests.support.first_run import first_run

pytestmark = pytest.mark.timeout(300)

ALICE = 100001  # the sandbox's first user


async def _say(client: SandboxClient, text: str, user_id: int) -> str:
    before = await client.chat(user_id=user_id)
    await client.send(text, user_id=user_id)
    after = await client.wait_for_reply(before, within=30, user_id=user_id)
    return "\n".join(m.text or "" for m in after.bot_messages[len(before.bot_messages) :])


async def _menu(client: SandboxClient, user_id: int) -> list[str]:
    return [c["command"] for c in (await client.chat(user_id=user_id)).commands]


async def test_the_owner_grants_a_role_and_the_menu_follows(tmp_path: Path) -> None:
    with first_run(tmp_path, STATBOT_OWNER_IDS=str(ALICE)) as run:
        await wait_ready(run)
        async with SandboxClient(run.url) as client:
            bob = await client.add_user("Bob")
            assert "/train" in await _say(client, "/start", bob)
            # the default scope: the default role's (analyst) menu; the owner's chat: theirs
            assert "train" in await _menu(client, bob) and "grant" not in await _menu(client, bob)
            assert {"train", "users", "grant", "invite"} <= set(await _menu(client, ALICE))

            said = await _say(client, "/grant @bob viewer", ALICE)
            assert said == f"Bob (@bob, {bob}) is now a viewer."
            menu = await _menu(client, bob)
            assert "kb_search" in menu and "train" not in menu
            refused = await _say(client, "/train", bob)
            assert refused == "/train needs the analyst role; you are a viewer."

            await _say(client, f"/grant {bob} admin", ALICE)
            assert {"users", "grant", "train"} <= set(await _menu(client, bob))
            assert "is now an analyst" in await _say(client, "/revoke @bob", ALICE)
            assert "grant" not in await _menu(client, bob)  # the chat scope deleted: default

            invite = await _say(client, "/invite viewer", ALICE)
            assert "https://t.me/statbot_sandbox_bot?start=" in invite
        assert run.stop() == 0
