"""The BotFather command menu per role (issue 12), through setMyCommands scopes.

The default scope shows the default role's commands (what a new user may run); every user whose
role differs — admins, owners, viewers when the default is analyst — gets their role's menu in
their private chat's scope (``BotCommandScopeChat``). Published at start and again for a user
whenever their role changes; back to the default role (or blocked), their chat scope is deleted
and Telegram shows them the default menu. A failure is logged: a menu is cosmetic, the role
gate is what refuses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from statbot.access.roles import Role

if TYPE_CHECKING:
    from statbot.access.directory import Directory

log = logging.getLogger(__name__)


class CommandMenus(Protocol):
    """What a channel offers for menus (the Telegram channel: setMyCommands/deleteMyCommands)."""

    async def set_commands(
        self, commands: Sequence[tuple[str, str]], chat_id: int | None = None
    ) -> None: ...

    async def delete_commands(self, chat_id: int) -> None: ...


class MenuPublisher:
    def __init__(self, directory: Directory, target: CommandMenus) -> None:
        self.directory = directory
        self.target = target

    async def publish_all(self) -> None:
        """The default scope and the chat scope of every user whose role is not the default."""
        default = self.directory.default_role
        await self._call(self.target.set_commands(self.directory.table.menu(default)))
        people = await asyncio.to_thread(self.directory.users.not_of_role, default)
        roles = {p.id: p.role for p in people}
        settings = self.directory.settings
        for owner in settings.owner_ids if settings is not None else ():
            roles[owner] = Role.OWNER  # also those who never wrote yet
        for user_id, role in roles.items():
            await self.publish(user_id, role)

    async def publish(self, user_id: int, role: Role) -> None:
        if role in (self.directory.default_role, Role.BLOCKED):
            await self._call(self.target.delete_commands(user_id))
        else:
            await self._call(self.target.set_commands(self.directory.table.menu(role), user_id))

    async def _call(self, call: object) -> None:
        assert asyncio.iscoroutine(call)
        try:
            await call
        except Exception as exc:  # e.g. "chat not found" for an owner who never wrote
            log.warning("setting a command menu failed: %s", exc)


async def publish_menus(
    directory: Directory, target: CommandMenus, bot_username: str | None
) -> None:
    """At start, once the channel knows the bot: every menu now, and each user's again whenever
    their role changes; invite links name the bot."""
    directory.bot_username = bot_username
    menus = MenuPublisher(directory, target)
    directory.on_role_change(menus.publish)
    await menus.publish_all()
