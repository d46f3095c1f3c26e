"""Roles: their order, parsing, and role_of from the catalog and the settings (issue 12)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from statbot.access.catalog import Catalog
from statbot.access.models import User
from statbot.access.roles import Role, at_least, parse_role, role_of
from statbot.config import load_settings
from statbot.errors import AccessError


def _user(catalog: Catalog, user_id: int, role: str, blocked: bool = False) -> None:
    now = time.time()
    with catalog.session() as s:
        s.add(User(id=user_id, name="x", role=role, blocked=blocked, first_seen=now, last_seen=now))


def test_roles_are_ordered_and_blocked_may_do_nothing() -> None:
    assert at_least("owner", "admin") and at_least(Role.ADMIN, Role.ADMIN)
    assert at_least("analyst", "viewer") and not at_least("analyst", "admin")
    assert not at_least("viewer", "analyst")
    assert not at_least(Role.BLOCKED, Role.VIEWER)


def test_parse_role_takes_plurals_and_refuses_blocked_and_nonsense() -> None:
    assert parse_role(" Admins ") is Role.ADMIN
    with pytest.raises(AccessError) as refused:
        parse_role("blocked")
    assert refused.value.user_message.endswith("one of owner, admin, analyst, viewer.")
    with pytest.raises(AccessError):
        parse_role("emperor")


def test_role_of_reads_the_row_and_owner_ids_win(catalog: Catalog, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, owner_ids="7, 8", default_role="Viewer")
    assert settings.owner_ids == (7, 8) and settings.default_role == "viewer"
    _user(catalog, 1, "admin")
    _user(catalog, 2, "analyst", blocked=True)
    _user(catalog, 7, "viewer", blocked=True)
    assert role_of(catalog, 1, settings) is Role.ADMIN
    assert role_of(catalog, 2, settings) is Role.BLOCKED
    assert role_of(catalog, 7, settings) is Role.OWNER  # the setting is the operator's word
    assert role_of(catalog, 99, settings) is Role.VIEWER  # never seen: the default role
    assert role_of(catalog, 99) is Role.ANALYST  # without settings: the built-in default
