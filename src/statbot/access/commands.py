"""The command registry (issue 12): each command's minimum role, help line and menu entry.

One table for every command the bot answers: the engine's own (/start, /help, ...), the
workflows' (/train, the knowledge base's, the admin and payment commands) and those started
without a command (an idle upload opens ``received``). A workflow's help line is its
``description``, declared once; the engine's are here. :meth:`CommandTable.build` gives a
workflow this table does not declare the analyst role (logged); a new command of the bot's
cannot slip in without a minimum role (``tests/access/test_role_matrix.py`` checks the bot's
registry against its own list, and runs every command for every role).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from statbot.access.roles import GRANTABLE, Role, at_least

if TYPE_CHECKING:
    from statbot.engine.workflow import WorkflowRegistry

log = logging.getLogger(__name__)

V, A, AD = Role.VIEWER, Role.ANALYST, Role.ADMIN

# name: (minimum role, in the BotFather menu). Commands of other parts of issue 12 are declared
# here too (/buy, /balance, /quota, /broadcast, /refund): they take effect once registered.
DECLARED: dict[str, tuple[Role, bool]] = {
    # the engine's own
    "start": (V, False),
    "help": (V, True),
    "cancel": (V, True),
    "back": (V, False),
    "forget": (V, False),
    # the knowledge base and the account
    "kb_search": (V, True),
    "kb_get": (V, True),
    "kb_stats": (V, True),
    "buy": (V, True),
    "balance": (V, True),
    "quota": (V, True),
    # data and models
    "train": (A, True),
    "predict": (A, True),
    "stats": (A, True),
    "explore": (A, True),
    "describe": (A, True),
    "models": (A, True),
    "received": (A, False),  # a file sent outside a conversation (no command)
    # administration
    "users": (AD, True),
    "grant": (AD, True),
    "revoke": (AD, False),
    "block": (AD, False),
    "unblock": (AD, False),
    "invite": (AD, True),
    "audit": (AD, True),
    "broadcast": (AD, True),
    "refund": (AD, False),
}
BUILTIN_HELP = {
    "start": "start, or show what I can do",
    "help": "what to do at this step",
    "cancel": "leave the current task",
    "back": "go back one step",
    "forget": "delete everything I keep about you",
}
# What the refusal calls a workflow that has no command.
_NAMED = {"received": "Sending a file"}


@dataclass(frozen=True)
class Command:
    name: str  # the command without "/" (or the workflow's name when it has none)
    min_role: Role
    help: str
    menu: bool
    is_command: bool = True

    @property
    def label(self) -> str:
        return f"/{self.name}" if self.is_command else _NAMED.get(self.name, self.name)


class CommandTable:
    """The registered commands, in the registry's order (the engine's own last)."""

    def __init__(self, commands: list[Command]) -> None:
        self.commands = commands
        self.by_name = {c.name: c for c in commands}

    @classmethod
    def build(cls, registry: WorkflowRegistry) -> CommandTable:
        commands: list[Command] = []
        for workflow in registry.workflows():
            declared = DECLARED.get(workflow.name)
            if declared is None:
                # A registry of its own (a test's, a plugin's): the default role may run it, as
                # before roles. The bot's registry declares every one (the role matrix test).
                log.warning("workflow %s declares no minimum role: analyst", workflow.name)
                declared = (Role.ANALYST, True)
            role, menu = declared
            commands.append(
                Command(workflow.name, role, workflow.description, menu, bool(workflow.command))
            )
        for name, line in BUILTIN_HELP.items():
            role, menu = DECLARED[name]
            commands.append(Command(name, role, line, menu))
        return cls(commands)

    def get(self, name: str) -> Command | None:
        return self.by_name.get(name)

    def allowed(self, role: Role, name: str) -> bool:
        command = self.by_name.get(name)
        return command is None or at_least(role, command.min_role)

    def menu(self, role: Role) -> list[tuple[str, str]]:
        """The BotFather menu of a role: (command, description) pairs (Telegram: ≤ 256 chars)."""
        return [
            (c.name, c.help[:256])
            for c in self.commands
            if c.menu and c.is_command and at_least(role, c.min_role)
        ]

    def menus(self) -> dict[Role, list[tuple[str, str]]]:
        return {role: self.menu(role) for role in GRANTABLE}
