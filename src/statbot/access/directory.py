"""Who is writing, and what they may run: the access room's face to the engine (issue 12).

:class:`Directory` keeps every user the bot has seen in memory (their effective role and when
their row was last written), so the hot path — every message — costs a dict lookup: a user's
row is written on first contact and ``last_seen`` at most once a minute per user, always in a
thread. It is also the engine's :class:`~statbot.engine.gate.Permissions` (/help lists what the
role may run) and tells listeners (the BotFather menus, :mod:`statbot.access.menus`) when a
role changes. With several processes on one catalog, a role changed by another process is seen
here within :data:`REFRESH_S` (when the row is next written).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from statbot.access.audit import FORGET, MODEL_DELETED, Audit
from statbot.access.commands import CommandTable
from statbot.access.roles import Role, at_least, default_role
from statbot.access.users import Person, Profile, Users

if TYPE_CHECKING:
    from statbot.access.catalog import Catalog
    from statbot.config import Settings
    from statbot.engine.events import Event

log = logging.getLogger(__name__)

REFRESH_S = 60.0  # last_seen written (and the role re-read) at most this often per user
MAX_CACHED = 100_000  # users kept in memory; the least recently seen are dropped beyond it
BLOCKED_TEXT = "You are blocked from using this bot."

RoleListener = Callable[[int, Role], Awaitable[None]]


@dataclass
class _Known:
    role: Role
    written: float
    profile: Profile


def refusal_text(label: str, needed: Role, have: Role) -> str:
    """``/grant needs the admin role; you are an analyst.``"""
    return f"{label} needs the {needed.value} role; you are {have.article}."


class Directory:
    def __init__(
        self,
        catalog: Catalog,
        settings: Settings | None,
        table: CommandTable,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self.settings = settings
        self.table = table
        self.clock = clock
        self.users = Users(catalog, settings)
        self.audit = Audit(catalog, clock)
        self.bot_username: str | None = None  # the channel sets it (invite links)
        self._known: OrderedDict[int, _Known] = OrderedDict()
        self._listeners: list[RoleListener] = []

    @property
    def default_role(self) -> Role:
        return default_role(self.settings)

    # the hot path -------------------------------------------------------------------------

    async def role_for(self, event: Event) -> Role:
        """The sender's role; their row is created on first contact and refreshed at most
        every :data:`REFRESH_S` seconds (or when the channel reports a new name)."""
        user_id = event.key.user_id
        profile = Profile(event.name, event.username, event.language)
        now = self.clock()
        known = self._known.get(user_id)
        if known is not None and now - known.written < REFRESH_S and _same(known.profile, profile):
            self._known.move_to_end(user_id)
            return known.role
        person = await asyncio.to_thread(self.users.touch, user_id, profile, now)
        self._remember(person, now, profile)
        return person.role

    def cached_role(self, user_id: int) -> Role | None:
        known = self._known.get(user_id)
        return known.role if known is not None else None

    def _remember(self, person: Person, now: float, profile: Profile) -> None:
        self._known[person.id] = _Known(person.role, now, profile)
        self._known.move_to_end(person.id)
        while len(self._known) > MAX_CACHED:
            self._known.popitem(last=False)

    # the engine's Permissions ---------------------------------------------------------------

    def refusal(self, event: Event, workflow: str) -> str | None:
        role = self.cached_role(event.key.user_id)
        if role is None:  # not through a gate (a job's event): nothing to check here
            return None
        return self.refusal_for(role, workflow)

    def refusal_for(self, role: Role, name: str) -> str | None:
        if role is Role.BLOCKED:
            return BLOCKED_TEXT
        command = self.table.get(name)
        if command is None or at_least(role, command.min_role):
            return None
        return refusal_text(command.label, command.min_role, role)

    # changes ----------------------------------------------------------------------------

    def on_role_change(self, listener: RoleListener) -> None:
        self._listeners.append(listener)

    async def changed(self, person: Person) -> None:
        """A user's role or block changed (``person`` as it is now): caches and menus follow."""
        self._known.pop(person.id, None)
        for listener in self._listeners:
            try:
                await listener(person.id, person.role)
            except Exception:  # a menu is cosmetic: the change itself is committed
                log.exception("a role-change listener failed")

    async def forgotten(self, user_id: int) -> None:
        """/forget: the audit entry, and the profile (name, @username, language) blanked. The
        row itself stays with its role and block, or /forget would undo a /block."""
        await asyncio.to_thread(self._forget, user_id)
        self._known.pop(user_id, None)

    def _forget(self, user_id: int) -> None:
        from statbot.access import audit
        from statbot.access.models import User

        with self.catalog.session() as s:
            row = s.get(User, user_id)
            if row is not None:
                row.name, row.username, row.language = "", None, None
            audit.add(s, FORGET, actor=user_id, target=user_id, at=self.clock())

    async def model_deleted(self, user_id: int, model_id: str) -> None:
        await asyncio.to_thread(
            self.audit.record, MODEL_DELETED, actor=user_id, target=user_id, model=model_id
        )


def _same(known: Profile, now: Profile) -> bool:
    """Nothing new in what the channel says (an empty field says nothing)."""
    return all(not new or new == old for old, new in zip(_fields(known), _fields(now), strict=True))


def _fields(p: Profile) -> tuple[str, str, str]:
    return (p.name, p.username, p.language)
