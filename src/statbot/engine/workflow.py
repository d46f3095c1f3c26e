"""Declarative workflows: states, allowed transitions, prerequisites, prompts, help.

A workflow is validated when it is defined: an unknown target state, a state that cannot be
reached from the start, or a non-final state with no way out raises
:class:`WorkflowDefinitionError` at import time, not in front of a user.

Handlers are ``async def handler(ctx: Context) -> None``. They read ``ctx.event`` and the
conversation's data, say things with ``ctx.reply(...)`` and move with ``ctx.goto(state)`` (only
to states listed in the current state's ``next``), ``ctx.finish()`` or ``ctx.stay()`` (the
default). CPU-heavy work goes to ``await ctx.run_blocking(fn, *args)`` or to a job, never inline.

A workflow that declares ``data`` (a loader such as ``TrainData.from_dict``) gets its data as
that typed object, ``ctx.typed(TrainData)``, read from the session's JSON dict when a handler
first asks and written back (``to_dict()``) when it returns: the session stays JSON (no
pickles), and the loader is where a session stored by an older statbot is read. A workflow
without ``data`` uses the plain dict, ``ctx.data``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from statbot.engine.errors import TransitionError, WorkflowDefinitionError
from statbot.engine.events import Event, EventKind
from statbot.engine.replies import Reply
from statbot.engine.session import Session

T = TypeVar("T")
Handler = Callable[["Context"], Awaitable[None]]
Check = Callable[[Session], bool]


class SessionData(Protocol):
    """A conversation's data as a typed object; ``to_dict()`` is what the session stores."""

    def to_dict(self) -> dict[str, Any]: ...


DataLoader = Callable[[dict[str, Any]], SessionData]

INPUT_KINDS = frozenset({EventKind.TEXT, EventKind.CHOICE})


@dataclass(frozen=True, slots=True)
class Prerequisite:
    """A condition on the session; when false, the user sees ``message`` and nothing runs."""

    check: Check
    message: str


@dataclass(frozen=True, slots=True)
class State:
    """One step of a workflow.

    ``prompt`` is the text shown on entering (``on_enter`` may send richer replies instead),
    ``help`` answers /help in this state, ``on_event`` handles the events in ``accepts``,
    ``next`` lists the states ``goto`` may move to, ``final`` marks an end state.
    """

    name: str
    prompt: str = ""
    help: str = ""
    on_enter: Handler | None = None
    on_event: Handler | None = None
    next: tuple[str, ...] = ()
    final: bool = False
    requires: tuple[Prerequisite, ...] = ()
    accepts: frozenset[EventKind] = INPUT_KINDS


@dataclass(frozen=True)
class Workflow:
    """A conversation started by ``/command``. Validated on construction."""

    name: str
    command: str
    description: str
    start: str
    states: tuple[State, ...]
    requires: tuple[Prerequisite, ...] = ()
    # Runs when the user leaves the workflow (/cancel, or a command starting another one), in
    # whatever state it is: e.g. /train kills its running job here.
    on_cancel: Handler | None = field(default=None, compare=False)
    # The conversation's typed data: built from the session's dict (see the module docstring).
    data: DataLoader | None = field(default=None, compare=False)
    # Nothing is lost by leaving it (a reader such as /kb_search): starting another workflow
    # from it says nothing about leaving, as for a workflow without a command.
    quiet_exit: bool = False
    by_name: dict[str, State] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, State] = {}
        for state in self.states:
            if state.name in by_name:
                raise WorkflowDefinitionError(f"{self.name}: duplicate state {state.name!r}")
            by_name[state.name] = state
        object.__setattr__(self, "by_name", by_name)
        if self.start not in by_name:
            raise WorkflowDefinitionError(f"{self.name}: unknown start state {self.start!r}")
        for state in self.states:
            for target in state.next:
                if target not in by_name:
                    raise WorkflowDefinitionError(
                        f"{self.name}: state {state.name!r} goes to unknown state {target!r}"
                    )
            if not state.final and not state.next:
                raise WorkflowDefinitionError(
                    f"{self.name}: state {state.name!r} is a dead end (no next, not final)"
                )
            if not state.final and state.on_event is None:
                raise WorkflowDefinitionError(
                    f"{self.name}: state {state.name!r} has no on_event handler"
                )
        reachable = _reachable(self.start, by_name)
        unreachable = [s.name for s in self.states if s.name not in reachable]
        if unreachable:
            raise WorkflowDefinitionError(
                f"{self.name}: unreachable state(s) {', '.join(sorted(unreachable))}"
            )

    def state(self, name: str) -> State:
        return self.by_name[name]


def _reachable(start: str, by_name: dict[str, State]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for target in by_name[todo.pop()].next:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


class Context:
    """What a handler sees: the session, the event, shared services; collects replies."""

    def __init__(
        self,
        session: Session,
        event: Event,
        workflow: Workflow | None,
        services: Any = None,
        *,
        history_limit: int = 50,
    ) -> None:
        self.session = session
        self.event = event
        self.workflow = workflow
        self.services = services
        self.history_limit = history_limit
        self.replies: list[Reply] = []
        self.next_state: str | None = None
        self.finished = False
        # Set by the engine when on_enter runs only to show the prompt again (/help, /back,
        # a stale menu): transitions requested then are ignored.
        self.reprompt = False
        self.forget_requested = False
        self.switch_to: tuple[str, dict[str, str]] | None = None
        self._typed: SessionData | None = None

    @property
    def data(self) -> dict[str, Any]:
        """The session's data as its JSON dict (the typed object, if one was read, is written
        back first and read again on the next :meth:`typed`)."""
        self.save_typed()
        self._typed = None
        return self.session.data

    def typed(self, cls: type[T]) -> T:
        """The workflow's declared data as ``cls`` (or a base class of it that a shared step
        knows): the same object for the rest of this handler, saved when the handler returns."""
        if self._typed is None:
            if self.workflow is None or self.workflow.data is None:
                raise TypeError(f"workflow {self.workflow_name!r} declares no typed data")
            self._typed = self.workflow.data(self.session.data)
        found = self._typed
        if not isinstance(found, cls):
            raise TypeError(f"{self.workflow_name} data is {type(found).__name__}, not {cls}")
        return found

    def save_typed(self) -> None:
        """Write the typed data back into the session (the engine calls this after a handler)."""
        if self._typed is not None:
            self.session.data = self._typed.to_dict()

    @property
    def workflow_name(self) -> str | None:
        return self.workflow.name if self.workflow is not None else None

    @property
    def memory(self) -> dict[str, Any]:
        """Cross-workflow context: last dataset, model, result."""
        return self.session.context

    @property
    def state(self) -> State | None:
        if self.workflow is None or self.session.state is None:
            return None
        return self.workflow.by_name.get(self.session.state)

    def reply(self, *replies: Reply | str) -> None:
        for reply in replies:
            self.replies.append(Reply.say(reply) if isinstance(reply, str) else reply)

    def goto(self, target: str) -> None:
        state = self.state
        if state is None or target not in state.next:
            current = state.name if state else None
            raise TransitionError(f"transition {current!r} -> {target!r} is not declared")
        self.next_state = target

    def finish(self) -> None:
        self.finished = True

    def stay(self) -> None:
        self.next_state = None

    def switch(self, workflow: str, intent: dict[str, str] | None = None) -> None:
        """Leave this workflow for ``workflow`` once the handler returns, as if its command had
        been sent with what ``intent`` says (e.g. ``{"dataset": "last"}``: on the last data)."""
        self.switch_to = (workflow, dict(intent or {}))

    def request_forget(self) -> None:
        """Ask the engine to delete everything of this user (all sessions, their data files)
        once this handler returns; the current conversation restarts empty with these replies."""
        self.forget_requested = True

    async def run_blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run CPU or disk work off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)


Interpreter = Callable[[str], "tuple[str, dict[str, str]] | None"]


class WorkflowRegistry:
    """The workflows a bot offers, by name and by command.

    ``interpreter`` (optional) maps free text to ``(workflow name, slots)``; the engine uses it
    when the user is idle, so "train a random forest to predict price" starts /train with
    ``data["intent"] == {"model": "random forest", "target": "price"}``.
    """

    def __init__(
        self,
        workflows: Iterable[Workflow] = (),
        *,
        interpreter: Interpreter | None = None,
        on_upload: str | None = None,
        payments: Handler | None = None,
    ) -> None:
        self.interpreter = interpreter
        # Answers payment events whatever step the conversation is in (engine/payments.py).
        self.payments = payments
        self._by_name: dict[str, Workflow] = {}
        self._by_command: dict[str, Workflow] = {}
        for workflow in workflows:
            self.add(workflow)
        if on_upload is not None and on_upload not in self._by_name:
            raise WorkflowDefinitionError(f"on_upload names no workflow: {on_upload!r}")
        # The workflow a file sent while no conversation runs starts (issue 15: it was dropped).
        self.on_upload = on_upload

    def add(self, workflow: Workflow) -> None:
        if workflow.name in self._by_name or workflow.command in self._by_command:
            raise WorkflowDefinitionError(f"workflow {workflow.name!r} registered twice")
        self._by_name[workflow.name] = workflow
        if workflow.command:  # no command: started by the engine only (e.g. an idle upload)
            self._by_command[workflow.command] = workflow

    def interpret(self, text: str) -> tuple[str, dict[str, str]] | None:
        if self.interpreter is None:
            return None
        found = self.interpreter(text)
        if found is None or found[0] not in self._by_name:
            return None
        return found

    def get(self, name: str | None) -> Workflow | None:
        return self._by_name.get(name) if name else None

    def for_command(self, command: str) -> Workflow | None:
        return self._by_command.get(command)

    def __iter__(self) -> Any:
        """The workflows a user can start by command (what /help and the menu list)."""
        return iter(w for w in self._by_name.values() if w.command)

    def workflows(self) -> list[Workflow]:
        """Every workflow, also those started without a command (an idle upload's)."""
        return list(self._by_name.values())
