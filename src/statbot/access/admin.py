"""What admins and owners do to users (issue 12): grant, revoke, block, unblock.

The rules: the command itself needs the admin role (the gate checks it); an admin may change
analysts and viewers, and give only those roles; an owner may change anyone and give any role;
nobody changes their own role, and an owner named by ``STATBOT_OWNER_IDS`` stays an owner (the
setting is the operator's). Each change is one transaction with its audit entry. A refusal
raises :class:`~statbot.errors.AccessError` whose ``user_message`` says why, and changes nothing.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from statbot.access import audit
from statbot.access.models import User
from statbot.access.roles import Role, at_least
from statbot.errors import AccessError

if TYPE_CHECKING:
    from statbot.access.directory import Directory
    from statbot.access.users import Person

GRANT, REVOKE, BLOCK, UNBLOCK = audit.GRANT, audit.REVOKE, audit.BLOCK, audit.UNBLOCK


def _refuse(text: str) -> AccessError:
    return AccessError(text, user_message=text)


class Admin:
    """Checked, audited changes of users, for the admin commands."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    async def grant(self, actor_id: int, ref: str, role: Role) -> str:
        return await self._change(GRANT, actor_id, ref, role)

    async def revoke(self, actor_id: int, ref: str) -> str:
        return await self._change(REVOKE, actor_id, ref, self.directory.default_role)

    async def block(self, actor_id: int, ref: str) -> str:
        return await self._change(BLOCK, actor_id, ref, None)

    async def unblock(self, actor_id: int, ref: str) -> str:
        return await self._change(UNBLOCK, actor_id, ref, None)

    async def _change(self, action: str, actor_id: int, ref: str, role: Role | None) -> str:
        try:
            person, reply = await asyncio.to_thread(self._apply, action, actor_id, ref, role)
        except AccessError as refused:
            await asyncio.to_thread(
                self.directory.audit.record,
                audit.REFUSED,
                actor=actor_id,
                command=action,
                reason=refused.user_message,
            )
            raise
        if person is not None:
            await self.directory.changed(person)
        return reply

    def _apply(
        self, action: str, actor_id: int, ref: str, role: Role | None
    ) -> tuple[Person | None, str]:
        users = self.directory.users
        target = users.find(ref) if ref.strip() else None
        if target is None:
            raise _refuse(
                f"I don't know {ref.strip() or 'that user'!r}: name a user by id or @username; "
                "they must have written to me (or send them an /invite)."
            )
        actor = users.get(actor_id)
        actor_role = actor.role if actor is not None else Role.VIEWER
        _check(actor_id, actor_role, target, role, self.directory)
        with self.directory.catalog.session() as s:
            row = s.get(User, target.id)
            assert row is not None  # found above; users are never deleted
            before = {"role": row.role, "blocked": row.blocked}
            done = _mutate(row, action, role)
            if done is None:
                return None, _unchanged(target, action)
            audit.add(
                s,
                action,
                actor=actor_id,
                target=target.id,
                at=self.directory.clock(),
                before=before,
                after={"role": row.role, "blocked": row.blocked},
            )
            s.flush()
            after = users.person(row)
        return after, done.format(who=target.label)


def _check(
    actor_id: int,
    actor_role: Role,
    target: Person,
    role: Role | None,
    directory: Directory,
) -> None:
    settings = directory.settings
    if target.id == actor_id:
        raise _refuse("You cannot change your own role or block yourself.")
    if settings is not None and target.id in settings.owner_ids:
        raise _refuse(
            f"{target.label} is an owner by STATBOT_OWNER_IDS; only that setting changes it."
        )
    if not at_least(actor_role, Role.OWNER):
        if target.stored in (Role.ADMIN, Role.OWNER):
            name = target.stored.article if target.stored else "an admin"
            raise _refuse(f"Only an owner can change {target.label}: they are {name}.")
        if role in (Role.ADMIN, Role.OWNER):
            raise _refuse(f"Only an owner can make someone {role.article}.")


def _mutate(row: User, action: str, role: Role | None) -> str | None:
    """Change the row; the reply's template, or None when it already was so."""
    if action in (GRANT, REVOKE):
        assert role is not None
        if row.role == role.value:
            return None
        row.role = role.value
        return "{who} is now " + role.article + "."
    if action == BLOCK:
        if row.blocked:
            return None
        row.blocked = True
        return "{who} is blocked: I will refuse everything they send."
    if not row.blocked:
        return None
    row.blocked = False
    return "{who} is unblocked."


def _unchanged(target: Person, action: str) -> str:
    if action == BLOCK:
        return f"{target.label} is already blocked."
    if action == UNBLOCK:
        return f"{target.label} is not blocked."
    return f"{target.label} already is {(target.stored or Role.VIEWER).article}; nothing changed."
