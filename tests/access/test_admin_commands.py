"""/grant, /revoke, /block, /unblock, /invite, /users and /audit through the real engine, and who
may change whom (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from statbot.access.models import AuditEntry, Invite
from statbot.access.roles import Role, role_of
from statbot.testing import ChatDriver

pytestmark = pytest.mark.unit

OWNER, ADMIN, BOB, CAROL = 1, 2, 3, 4


def _texts(replies: list) -> str:  # type: ignore[type-arg]
    return "\n".join(r.text for r in replies)


async def _people(chat: ChatDriver) -> None:
    for user_id, name in ((OWNER, "Olga"), (ADMIN, "Ada"), (BOB, "Bob"), (CAROL, "Carol")):
        chat.as_user(user_id, name=name, username=name.lower())
        await chat.send("/start")
    chat.as_user(OWNER)
    assert _texts(await chat.send("/grant @ada admin")) == "Ada (@ada, 2) is now an admin."


def _role(chat: ChatDriver, user_id: int) -> Role:
    assert chat.services.catalog is not None
    return role_of(chat.services.catalog, user_id, chat.settings)


def _actions(chat: ChatDriver) -> list[str]:
    from sqlalchemy import select

    assert chat.services.catalog is not None
    with chat.services.catalog.session() as s:
        return [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


async def test_admins_change_analysts_and_viewers_owners_anyone(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path, owner_ids=str(OWNER)) as chat:
        await _people(chat)
        chat.as_user(ADMIN)
        assert _texts(await chat.send("/grant 3 viewer")) == "Bob (@bob, 3) is now a viewer."
        assert _role(chat, BOB) is Role.VIEWER
        refused = _texts(await chat.send("/grant @bob admin"))
        assert refused == "Only an owner can make someone an admin."
        assert _role(chat, BOB) is Role.VIEWER
        assert _texts(await chat.send("/block 1")).startswith("Olga (@olga, 1) is an owner by")
        chat.as_user(OWNER)
        await chat.send("/grant 4 admin")
        chat.as_user(ADMIN)
        assert _texts(await chat.send("/revoke @carol")) == (
            "Only an owner can change Carol (@carol, 4): they are an admin."
        )
        assert _texts(await chat.send("/grant 2 viewer")).startswith("You cannot change your own")
        assert _texts(await chat.send("/revoke 3")) == "Bob (@bob, 3) is now an analyst."
        assert _texts(await chat.send("/revoke 3")).endswith("nothing changed.")
        assert _texts(await chat.send("/grant nobody analyst")).startswith("I don't know 'nobody'")
        assert _texts(await chat.send("/grant 3")).startswith("Usage: /grant")
        assert _texts(await chat.send("/grant 3 emperor")).startswith("There is no role")
        chat.as_user(OWNER)
        assert _texts(await chat.send("/revoke 4")) == "Carol (@carol, 4) is now an analyst."
    actions = _actions(chat)
    assert actions.count("grant") == 3 and actions.count("revoke") == 2
    assert actions.count("refused") == 5  # admin role, an owner, an admin, self, unknown user


async def test_block_refuses_everything_and_unblock_gives_the_role_back(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path, owner_ids=str(OWNER)) as chat:
        await _people(chat)
        chat.as_user(OWNER)
        await chat.send("/grant 3 viewer")
        chat.as_user(ADMIN)
        assert _texts(await chat.send("/block @bob")).startswith("Bob (@bob, 3) is blocked")
        chat.as_user(BOB)
        assert _texts(await chat.send("/kb_stats")) == "You are blocked from using this bot."
        assert _texts(await chat.send("hello")) == "You are blocked from using this bot."
        await chat.send("/forget")  # refused too: /forget cannot undo a block
        assert _role(chat, BOB) is Role.BLOCKED
        chat.as_user(ADMIN)
        assert _texts(await chat.send("/block 3")) == "Bob (@bob, 3) is already blocked."
        assert _texts(await chat.send("/unblock 3")) == "Bob (@bob, 3) is unblocked."
        assert _role(chat, BOB) is Role.VIEWER
        chat.as_user(BOB)
        assert "knowledge base has" in _texts(await chat.send("/kb_stats"))


async def test_an_invite_grants_its_role_once(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path, owner_ids=str(OWNER), default_role="viewer") as chat:
        await _people(chat)
        chat.as_user(ADMIN)
        assert _texts(await chat.send("/invite admin")) == "Only an owner can invite an admin."
        made = _texts(await chat.send("/invite analyst"))
        code = made.rsplit(" ", 1)[-1]
        assert made.endswith(f"/start {code}")  # no bot username here: the command itself
        chat.as_user(10, name="Newcomer")
        first = _texts(await chat.send(f"/start {code}"))
        assert first.startswith("Welcome! The invite made you an analyst.") and "/train" in first
        assert _role(chat, 10) is Role.ANALYST
        again = _texts(await chat.send(f"/start {code}"))
        assert again.startswith("You already are an analyst")
        chat.as_user(11)
        used = _texts(await chat.send(f"/start {code}"))
        assert used.startswith("This invite was already used") and "/train" not in used
        assert _role(chat, 11) is Role.VIEWER
        unknown = _texts(await chat.send("/start AAAAAAAAAAAAAAAA"))
        assert unknown.startswith("I don't know this invite")
        chat.as_user(ADMIN)
        expired = _texts(await chat.send("/invite viewer")).rsplit(" ", 1)[-1]
        assert chat.services.catalog is not None
        with chat.services.catalog.session() as s:
            invite = s.get(Invite, expired)
            assert invite is not None
            invite.expires_at = 0.0
        chat.as_user(12)
        assert _texts(await chat.send(f"/start {expired}")).startswith("This invite has expired")
    assert _actions(chat).count("invite_used") == 1


async def test_users_is_paged_and_opens_a_card(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path, owner_ids=str(OWNER)) as chat:
        for user_id in range(100, 125):
            chat.as_user(user_id, name=f"u{user_id}")
            await chat.send("/start")
        chat.as_user(OWNER, name="Olga")
        replies = await chat.send("/users")
        menu = replies[-1]
        assert menu.text.startswith("26 users") and len(menu.options) == 26
        assert menu.page_size == 10
        assert menu.options[0].label == "Olga (1) · owner"  # most recently seen first
        card = _texts(await chat.press("u110"))
        assert "u110 (110)" in card and "Role: analyst" in card and "/block 110" in card
        assert "Role: owner" in _texts(await chat.send("1"))  # a number from the list


async def test_audit_lists_recent_entries_and_filters_by_user(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path, owner_ids=str(OWNER)) as chat:
        await _people(chat)
        await chat.send("/grant 3 viewer")
        chat.as_user(BOB)
        await chat.send("/train")  # refused: a viewer
        chat.as_user(OWNER)
        everything = _texts(await chat.send("/audit"))
        assert "*grant* by Olga (@olga, 1) → Bob (@bob, 3): analyst → viewer" in everything
        assert "*refused* by Bob (@bob, 3) (command train)" in everything
        only_ada = _texts(await chat.send("/audit @ada"))
        assert "Ada" in only_ada and "Bob" not in only_ada
