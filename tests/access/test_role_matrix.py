"""Every registered command × every role, through the real engine (issue 12).

Each role's user first opens /kb_stats (everyone may), so a refusal can be seen to move nothing:
the conversation's workflow, state, data and back-stack are the same after it, and the refusal
is in the audit log.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from statbot.access.commands import DECLARED, CommandTable
from statbot.access.directory import BLOCKED_TEXT
from statbot.access.models import AuditEntry, User
from statbot.access.roles import Role, at_least
from statbot.testing import ChatDriver
from statbot.workflows import default_registry

pytestmark = pytest.mark.unit

OWNER, ADMIN, ANALYST, VIEWER, BLOCKED = 1, 2, 3, 4, 5
ROLE_OF = {OWNER: Role.OWNER, ADMIN: Role.ADMIN, ANALYST: Role.ANALYST, VIEWER: Role.VIEWER}
# What each role may run: written out, not derived from the table under test.
EXPECTED_MIN = {
    "start": "viewer", "help": "viewer", "cancel": "viewer", "back": "viewer",
    "forget": "viewer", "kb_search": "viewer", "kb_get": "viewer", "kb_stats": "viewer",
    "buy": "viewer", "balance": "viewer", "quota": "viewer",
    "train": "analyst", "predict": "analyst", "stats": "analyst", "explore": "analyst",
    "describe": "analyst", "models": "analyst", "received": "analyst",
    "users": "admin", "grant": "admin", "revoke": "admin", "block": "admin",
    "unblock": "admin", "invite": "admin", "audit": "admin", "broadcast": "admin",
    "refund": "admin",
}  # fmt: skip


async def _snapshot(chat: ChatDriver) -> tuple[object, ...]:
    session = await chat.manager.store.load(chat.key)
    assert session is not None
    return (session.workflow, session.state, session.data, session.stack, session.menu)


def _refusals(chat: ChatDriver) -> int:
    from sqlalchemy import func, select

    catalog = chat.services.catalog
    assert catalog is not None
    with catalog.session() as s:
        query = select(func.count()).where(AuditEntry.action == "refused")
        return int(s.scalar(query.select_from(AuditEntry)) or 0)


def _set(chat: ChatDriver, user_id: int, role: str, blocked: bool = False) -> None:
    catalog = chat.services.catalog
    assert catalog is not None and chat.services.access is not None
    with catalog.session() as s:
        row = s.get(User, user_id)
        assert row is not None
        row.role, row.blocked = role, blocked
    chat.services.access._known.pop(user_id, None)  # as Directory.changed does


def test_every_command_declares_a_minimum_role() -> None:
    table = CommandTable.build(default_registry())
    assert {c.name: c.min_role.value for c in table.commands} == {
        name: EXPECTED_MIN[name] for name in table.by_name
    }
    assert set(DECLARED) == set(EXPECTED_MIN)


async def test_every_command_for_every_role(tmp_path: Path, catalog_url: str) -> None:
    """On SQLite and on PostgreSQL (the catalog_url fixture runs it on both)."""
    table = CommandTable.build(default_registry())
    commands = [c for c in table.commands if c.is_command]
    async with ChatDriver(tmp_path, owner_ids=str(OWNER), database_url=catalog_url) as chat:
        for user_id in (OWNER, ADMIN, ANALYST, VIEWER, BLOCKED):
            chat.as_user(user_id, name=f"user{user_id}")
            await chat.send("/kb_stats")
        for user_id in (ADMIN, ANALYST, VIEWER):
            _set(chat, user_id, ROLE_OF[user_id].value)
        _set(chat, BLOCKED, "analyst", blocked=True)
        for user_id in (OWNER, ADMIN, ANALYST, VIEWER, BLOCKED):
            chat.as_user(user_id)
            role = ROLE_OF.get(user_id, Role.BLOCKED)
            for command in commands:
                if command.name in ("forget", "cancel", "start", "back", "help"):
                    continue  # below: they would leave or reprompt /kb_stats
                await chat.send("/kb_stats")
                before, audited = await _snapshot(chat), _refusals(chat)
                replies = await chat.send(f"/{command.name}")
                texts = " ".join(r.text for r in replies)
                if at_least(role, EXPECTED_MIN[command.name]):
                    assert "role; you are" not in texts and BLOCKED_TEXT not in texts, (
                        role,
                        command.name,
                        texts,
                    )
                    continue
                if role is Role.BLOCKED:
                    assert texts == BLOCKED_TEXT
                else:
                    needed = EXPECTED_MIN[command.name]
                    assert (
                        texts == f"/{command.name} needs the {needed} role; you are {role.article}."
                    )
                assert await _snapshot(chat) == before, (role, command.name)
                assert _refusals(chat) == audited + 1
            for name in ("help", "start", "cancel", "back", "forget"):
                texts = " ".join(r.text for r in await chat.send(f"/{name}"))
                assert (texts == BLOCKED_TEXT) is (role is Role.BLOCKED), (role, name, texts)


async def test_help_lists_only_what_the_role_may_run(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path, owner_ids=str(OWNER)) as chat:
        chat.as_user(VIEWER)
        await chat.send("/start")
        _set(chat, VIEWER, "viewer")
        listed = (await chat.send("/help"))[0].text
        assert "/kb_search" in listed and "/forget" in listed
        assert "/train" not in listed and "/grant" not in listed
        chat.as_user(OWNER)
        greeting = (await chat.send("/start"))[0].text
        assert "/train" in greeting and "/grant" in greeting and "/users" in greeting


async def test_free_text_and_files_cannot_start_what_the_role_may_not(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path) as chat:
        await chat.send("/start")
        _set(chat, chat.key.user_id, "viewer")
        replies = await chat.send("train a random forest to predict price")
        assert [r.text for r in replies] == ["/train needs the analyst role; you are a viewer."]
        data = tmp_path / "x.csv"
        data.write_text("a,b\n1,2\n3,4\n")
        replies = await chat.upload(data)
        assert [r.text for r in replies] == [
            "Sending a file needs the analyst role; you are a viewer."
        ]
        assert await chat.state() == (None, None)


async def test_a_demoted_user_inside_a_workflow_is_refused_and_can_cancel(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path) as chat:
        await chat.send("/train")
        _set(chat, chat.key.user_id, "viewer")
        before = await _snapshot(chat)
        replies = await chat.send("iris.csv")
        assert [r.text for r in replies] == ["/train needs the analyst role; you are a viewer."]
        assert await _snapshot(chat) == before
        await chat.send("/cancel")
        assert await chat.state() == (None, None)
