"""Apply ONE event to a loaded session: routing it, and what a failed handler leaves behind.

Transport-free and store-free: :meth:`Dispatcher.apply` mutates the given :class:`Session` and
returns an :class:`Outcome` with the replies to commit with it. The manager
(:mod:`statbot.engine.apply`) does the loading, dedupe, committing and delivery. The layers under
the Dispatcher: :mod:`statbot.engine.states` enters states and runs handlers,
:mod:`statbot.engine.commands` answers the built-in commands and menus.

Rules (issue #2):
- Entering a state runs ``on_enter`` (or sends ``prompt``), pushes ``{state, data}`` (the data as
  it was on entry) to the back-stack and stamps a fresh menu token: every CHOICES reply emitted in
  that state entry carries it, and a CHOICE whose token is not ``session.menu`` is stale.
- A handler that raises (including :class:`TransitionError`) never moves the session: it is
  restored to what it was before the event, the error is logged with its cause and the user is
  told in words.
- A session whose workflow or state no longer exists is reset (quarantined) with a message.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from statbot.engine import texts
from statbot.engine.commands import (
    BUILTIN_CHOICES,
    BUILTIN_COMMANDS,
    CONTINUE,
    FORGET_NO,
    FORGET_YES,
    START_OVER,
    Builtins,
)
from statbot.engine.errors import TransitionError
from statbot.engine.events import PAYMENT_KINDS, Event, EventKind
from statbot.engine.gate import Gate
from statbot.engine.payments import route_payment
from statbot.engine.replies import Reply, ReplyKind
from statbot.engine.session import Session, SessionStatus
from statbot.engine.states import HandlerFailed, MenuTokens, Outcome
from statbot.engine.workflow import WorkflowRegistry
from statbot.errors import StatbotError

__all__ = [
    "BUILTIN_CHOICES",
    "BUILTIN_COMMANDS",
    "CONTINUE",
    "FORGET_NO",
    "FORGET_YES",
    "START_OVER",
    "Dispatcher",
    "MenuTokens",
    "Outcome",
]

_USER_KINDS = frozenset({EventKind.COMMAND, EventKind.TEXT, EventKind.CHOICE, EventKind.UPLOAD})


class Dispatcher(Builtins):
    """Routes events for one registry. Stateless between calls; safe to share.

    ``rollback``: on a handler failure restore the session from a snapshot taken before the
    event (the default). The manager turns it off and reloads the stored session instead, which
    keeps a deep copy out of every event's path; ``Outcome.dirty`` then says the session object
    must be thrown away.
    """

    def __init__(
        self,
        registry: WorkflowRegistry,
        *,
        services: Any = None,
        history_limit: int = 50,
        new_token: Callable[[], str] | None = None,
        rollback: bool = True,
    ) -> None:
        super().__init__(
            registry, services=services, history_limit=history_limit, new_token=new_token
        )
        self.rollback = rollback
        self.gates: list[Gate] = []  # see statbot.engine.gate

    # entry point --------------------------------------------------------------------------
    async def apply(self, session: Session, event: Event) -> Outcome:
        if event.kind is EventKind.NOTICE:
            # The bot speaking on its own (issue 12: /broadcast), not the user: no gate (a
            # refusal would answer a message nobody sent), no workflow, nothing moves.
            notice = [Reply(ReplyKind.TEXT, text=event.text, meta=dict(event.meta or {}))]
            self._remember_replies(session, notice)
            return Outcome(session, notice)
        # Payments pass the gates: Stars already paid must be credited (or refunded) even for a
        # user since blocked or over a rate limit; the pre-checkout handler checks who pays.
        for gate in () if event.kind in PAYMENT_KINDS else self.gates:
            refusal = await gate.admit(session, event)
            if refusal is not None:  # consumed, and nothing of the conversation moves
                self._remember_input(session, event)
                self._remember_replies(session, refusal)
                return Outcome(session, list(refusal))
        out = Outcome(session)
        snapshot = _snapshot(session) if self.rollback else None
        self._remember_input(session, event)
        try:
            await self._route(session, event, out)
        except HandlerFailed as failure:
            out.replies = [Reply.say(_failure_text(failure.cause))]
            out.forget = False
            out.failed = True
            if snapshot is None:
                out.dirty = True
                return out
            _restore(session, snapshot)
        self._remember_replies(session, out.replies)
        return out

    def record_failure(self, session: Session, event: Event, replies: list[Reply]) -> Outcome:
        """The outcome of a failed event on a clean (reloaded) session: history only."""
        self._remember_input(session, event)
        self._remember_replies(session, replies)
        return Outcome(session, list(replies), failed=True)

    def _remember_replies(self, session: Session, replies: list[Reply]) -> None:
        for reply in replies:
            if reply.text and reply.kind is not ReplyKind.PROGRESS:
                session.remember("bot", reply.text, self.history_limit)

    async def _route(self, session: Session, event: Event, out: Outcome) -> None:
        self._check_quarantine(session, out)
        if event.kind in PAYMENT_KINDS:
            await route_payment(self, session, event, out)
            return
        if session.status is SessionStatus.GRACE and event.kind in _USER_KINDS:
            session.status = SessionStatus.ACTIVE
            session.grace_until = None
            if session.workflow is not None and event.kind is not EventKind.COMMAND:
                self._ask(session, out, texts.WELCOME_BACK, [texts.CONTINUE_OPT, texts.OVER_OPT])
                return
        if event.kind is EventKind.COMMAND:
            await self._command(session, event, out)
        elif event.kind is EventKind.CHOICE and event.choice.startswith("/"):
            # A button whose option id is a command ("What does this mean?" opens
            # "/kb_get p-value cohens-d", issue 13) runs it as if typed: from any menu, old or
            # current, in any state or none — a command is always allowed.
            await self._command(session, command_event(event), out)
        elif event.kind is EventKind.CHOICE and event.choice in BUILTIN_CHOICES:
            await self._builtin_choice(session, event, out)
        elif event.kind is EventKind.CHOICE and event.token != session.menu:
            out.replies.append(Reply.say(texts.STALE_MENU))
            await self._reprompt_or_commands(session, event, out)
        elif session.workflow is None:
            if not await self._interpret(session, event, out):
                self._idle(event, out)
        else:
            await self._to_state(session, event, out)

    # helpers ------------------------------------------------------------------------------
    def _idle(self, event: Event, out: Outcome) -> None:
        if event.kind in (EventKind.JOB_PROGRESS, EventKind.TIMER):
            return
        if event.kind is EventKind.JOB_FINISHED:
            if event.text:
                out.replies.append(Reply.say(event.text))
            return
        out.replies.append(Reply.say(texts.idle(self._offered(event))))

    def _check_quarantine(self, session: Session, out: Outcome) -> None:
        if session.workflow is None:
            return
        workflow = self._workflow(session)
        if workflow is None or session.state not in workflow.by_name:
            self._quarantine(session, out)

    def _remember_input(self, session: Session, event: Event) -> None:
        text = _input_text(event)
        if text:
            session.remember("user", text, self.history_limit)


def command_event(event: Event) -> Event:
    """A pressed command button as the COMMAND event typing it would have made."""
    name, _, args = event.choice[1:].partition(" ")
    return replace(event, kind=EventKind.COMMAND, text=name, args=args.strip(), choice="")


def _input_text(event: Event) -> str:
    if event.kind is EventKind.COMMAND:
        return f"/{event.text} {event.args}".strip()
    if event.kind is EventKind.TEXT:
        return event.text
    if event.kind is EventKind.CHOICE:
        return f"[{event.choice}]"
    if event.kind is EventKind.UPLOAD and event.upload is not None:
        return f"[file {event.upload.file_name}]"
    return ""


def _snapshot(session: Session) -> dict[str, Any]:
    try:
        data, context = json.loads(json.dumps([session.data, session.context]))
    except (TypeError, ValueError):  # not from a store; keep what we were given
        data, context = copy.deepcopy(session.data), copy.deepcopy(session.context)
    return {
        "workflow": session.workflow,
        "state": session.state,
        "menu": session.menu,
        "status": session.status,
        "grace_until": session.grace_until,
        "data": data,
        "stack": list(session.stack),  # entries are never mutated, only pushed/popped
        "context": context,
        "datasets": list(session.datasets),
    }


def _restore(session: Session, snapshot: dict[str, Any]) -> None:
    for name, value in snapshot.items():
        setattr(session, name, value)


def _failure_text(exc: BaseException) -> str:
    if isinstance(exc, StatbotError) and not isinstance(exc, TransitionError):
        return exc.user_message
    return texts.SOMETHING_WENT_WRONG
