"""The role gate (issue 12): the first check every user event passes.

It makes the sender's row on first contact (through :class:`Directory`, cheaply), refuses
everything from a blocked user, redeems an invite (``/start <code>``) and refuses a command —
typed, pressed, free text that would start it, or input to a workflow the user may no longer
run — that needs a higher role: "/grant needs the admin role; you are an analyst." A refusal is
audited and, as every gate's, consumed without moving the conversation.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from statbot.access import audit
from statbot.access.invites import ALREADY, CODE, EXPIRED, GRANTED, UNKNOWN, Invites
from statbot.access.roles import Role
from statbot.access.users import Profile
from statbot.engine import texts
from statbot.engine.commands import BUILTIN_CHOICES
from statbot.engine.events import Event, EventKind
from statbot.engine.gate import command_of
from statbot.engine.replies import Reply

if TYPE_CHECKING:
    from statbot.access.directory import Directory
    from statbot.engine.session import Session
    from statbot.engine.workflow import WorkflowRegistry

_USER_KINDS = frozenset({EventKind.COMMAND, EventKind.TEXT, EventKind.CHOICE, EventKind.UPLOAD})


class RoleGate:
    def __init__(self, directory: Directory, registry: WorkflowRegistry) -> None:
        self.directory = directory
        self.registry = registry
        self.invites = Invites(directory)

    async def admit(self, session: Session, event: Event) -> list[Reply] | None:
        if event.kind not in _USER_KINDS:
            return None
        role = await self.directory.role_for(event)
        if role is Role.BLOCKED:
            return await self._refuse(event, "blocked", self.directory.refusal_for(role, ""))
        if event.kind is EventKind.COMMAND and event.text == "start" and CODE.fullmatch(event.args):
            return await self._redeem(event)
        name = self._would_run(session, event)
        if name is None:
            return None
        refusal = self.directory.refusal_for(role, name)
        return None if refusal is None else await self._refuse(event, name, refusal)

    def _would_run(self, session: Session, event: Event) -> str | None:
        if event.kind is EventKind.CHOICE and event.choice in BUILTIN_CHOICES:
            return None  # the engine's own menus (Forget yes/no, Continue) are everyone's
        name = command_of(session, event)
        if name == "back" and session.workflow is not None:
            return session.workflow  # going back re-enters a step of the workflow
        if name is None and session.workflow is None and event.kind is not EventKind.CHOICE:
            # Free text that names a workflow ("train a random forest"), or a file sent idle.
            found = self.registry.interpret(event.text) if event.text.strip() else None
            if found is None and event.kind is EventKind.UPLOAD:
                return self.registry.on_upload
            return found[0] if found is not None else None
        return name

    async def _refuse(self, event: Event, command: str, text: str | None) -> list[Reply]:
        assert text is not None
        await asyncio.to_thread(
            self.directory.audit.record,
            audit.REFUSED,
            actor=event.key.user_id,
            command=command,
            kind=event.kind.value,
        )
        return [Reply.say(text)]

    async def _redeem(self, event: Event) -> list[Reply]:
        profile = Profile(event.name, event.username, event.language)
        done = await asyncio.to_thread(self.invites.redeem, event.args, event.key.user_id, profile)
        if done.person is not None:
            await self.directory.changed(done.person)
        role = await self.directory.role_for(event)
        listed = [w for w in self.registry if self.directory.refusal_for(role, w.name) is None]
        if done.status == GRANTED:
            head = f"Welcome! The invite made you {role.article}."
        elif done.status == ALREADY:
            head = f"You already are {role.article}; the invite changed nothing."
        elif done.status == EXPIRED:
            head = "This invite has expired: ask for a new one."
        elif done.status == UNKNOWN:
            head = "I don't know this invite (check the link)."
        else:
            head = "This invite was already used: ask for a new one."
        return [Reply.say(head + "\n" + texts.greeting(listed))]
