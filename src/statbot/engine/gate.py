"""Gates: checks that run before an event reaches the conversation (issue 12).

The engine knows no users, roles or quotas; the access room does. A gate is handed the session
and the event and answers None (let it through) or the replies that refuse it. A refused event is
consumed like any other (journaled, marked applied, its replies in the outbox, one commit) but
moves nothing: no state, selection or data of the conversation changes. A gate may keep its own
bookkeeping in ``session.context`` (the rate limit's bucket); it is committed with the event,
refused or not, so every process that loads the session sees it. Gates run in the order
they were added to :meth:`statbot.engine.manager.StateManager.add_gate`; the first refusal wins.

:func:`command_of` names the command an event would run, so that a gate can check a command's
minimum role whether it was typed, pressed as a command button, or is the workflow the
conversation is in.

:class:`Permissions` is the other half of the seam: what the user of an event may start. The
engine lists only those workflows in /help, the greeting and its other command lists, and a
handler's ``ctx.switch`` to a workflow the user may not run is refused with the sentence it
returns (a gate sees the typed command, not where a handler goes next).
"""

from __future__ import annotations

from typing import Protocol

from statbot.engine.events import Event, EventKind
from statbot.engine.replies import Reply
from statbot.engine.session import Session
from statbot.engine.workflow import Workflow, WorkflowRegistry


class Gate(Protocol):
    async def admit(self, session: Session, event: Event) -> list[Reply] | None:
        """None to let the event through, else the replies that refuse it."""
        ...


class Permissions(Protocol):
    def refusal(self, event: Event, workflow: str) -> str | None:
        """None when the event's user may run ``workflow`` (its name), else the sentence that
        refuses it. Synchronous: answered from what the gates loaded for this event."""
        ...


def refusal(permissions: Permissions | None, event: Event, workflow: str) -> str | None:
    return permissions.refusal(event, workflow) if permissions is not None else None


def offered(
    permissions: Permissions | None, registry: WorkflowRegistry, event: Event
) -> list[Workflow]:
    """The workflows the event's user may start: what the command lists show them."""
    return [w for w in registry if refusal(permissions, event, w.name) is None]


def command_of(session: Session, event: Event) -> str | None:
    """The command an event runs: ``/train`` typed or as a button → "train"; any other input
    inside a workflow → that workflow's name; None for idle free text, jobs and timers."""
    text = ""
    if event.kind is EventKind.COMMAND:
        text = event.text
    elif event.kind is EventKind.CHOICE and event.choice.startswith("/"):
        text = event.choice
    if text:
        return text.lstrip("/").split(None, 1)[0].split("@", 1)[0].lower()
    if event.kind in (EventKind.TEXT, EventKind.CHOICE, EventKind.UPLOAD):
        return session.workflow
    return None
