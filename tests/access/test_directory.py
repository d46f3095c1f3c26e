"""Users on first contact, kept cheap: one row write per user per minute at most (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from statbot.access.catalog import Catalog
from statbot.access.commands import CommandTable
from statbot.access.directory import REFRESH_S, Directory
from statbot.access.roles import Role
from statbot.access.users import Users
from statbot.config import load_settings
from statbot.engine.events import ConversationKey, Event, EventKind
from statbot.testing import ChatDriver
from statbot.workflows import default_registry

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _event(user_id: int, **sender: str) -> Event:
    key = ConversationKey("telegram", user_id, user_id)
    return Event(key, EventKind.TEXT, "u1", text="hi", **sender)  # type: ignore[arg-type]


async def test_first_contact_makes_a_row_and_last_seen_is_written_once_a_minute(
    catalog: Catalog, tmp_path: Path
) -> None:
    clock = Clock()
    settings = load_settings(data_dir=tmp_path, owner_ids="9")
    directory = Directory(catalog, settings, CommandTable.build(default_registry()), clock)
    writes = 0
    touch = directory.users.touch

    def counting(*args: object) -> object:
        nonlocal writes
        writes += 1
        return touch(*args)  # type: ignore[arg-type]

    directory.users.touch = counting  # type: ignore[method-assign]
    assert await directory.role_for(_event(5, name="Ada", language="de")) is Role.ANALYST
    for _ in range(50):
        clock.now += 1
        await directory.role_for(_event(5))
    assert writes == 1  # the hot path: a dict lookup
    stored = Users(catalog).get(5)
    assert stored is not None and (stored.name, stored.language) == ("Ada", "de")
    assert stored.first_seen == stored.last_seen == 1_000.0
    clock.now = 1_000.0 + REFRESH_S + 1
    await directory.role_for(_event(5))
    assert writes == 2
    stored = Users(catalog).get(5)
    assert stored is not None and stored.last_seen == clock.now
    await directory.role_for(_event(5, username="ada"))  # news from the channel: written now
    assert writes == 3 and Users(catalog).find("@ADA") is not None
    assert await directory.role_for(_event(9)) is Role.OWNER  # STATBOT_OWNER_IDS
    assert Users(catalog).get(9) is not None and Users(catalog).get(9).stored is Role.OWNER  # type: ignore[union-attr]


async def test_forget_is_audited_and_blanks_the_profile_but_keeps_the_role(
    tmp_path: Path,
) -> None:
    async with ChatDriver(tmp_path) as chat:
        chat.as_user(7, name="Ada", username="ada")
        await chat.send("/start")
        await chat.send("/forget")
        await chat.press("Yes")
        access = chat.services.access
        assert access is not None
        person = access.users.get(7)
        assert person is not None and (person.name, person.username) == ("", None)
        assert person.role is Role.ANALYST
        assert [e.action for e in access.audit.recent(7)] == ["forget"]
