"""Apply ONE event to a loaded session: routing, built-in commands, workflow handlers.

Transport-free and store-free: :meth:`Dispatcher.apply` mutates the given :class:`Session` and
returns an :class:`Outcome` with the replies to commit with it. The manager does the loading,
dedupe, committing and delivery.

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
import logging
from collections.abc import Callable
from typing import Any

from statbot.engine import texts
from statbot.engine.errors import TransitionError
from statbot.engine.events import Event, EventKind
from statbot.engine.replies import Reply, ReplyKind
from statbot.engine.session import Session, SessionStatus
from statbot.engine.states import (
    HandlerFailed,
    MenuTokens,
    Outcome,
    StateRunner,
    clone_data,
    leave_workflow,
)
from statbot.engine.workflow import Workflow, WorkflowRegistry
from statbot.errors import StatbotError

__all__ = ["Dispatcher", "MenuTokens", "Outcome"]

log = logging.getLogger(__name__)

# Option ids of the engine's own menus. Workflows must not use ids starting with "__"
# (except replies.DONE_OPTION, which the channel sends for multi-select menus).
CONTINUE = texts.CONTINUE_OPT.id
START_OVER = texts.OVER_OPT.id
FORGET_YES = texts.FORGET_YES_OPT.id
FORGET_NO = texts.FORGET_NO_OPT.id
BUILTIN_CHOICES = frozenset({CONTINUE, START_OVER, FORGET_YES, FORGET_NO})
BUILTIN_COMMANDS = ("start", "help", "cancel", "back", "forget")
_USER_KINDS = frozenset({EventKind.COMMAND, EventKind.TEXT, EventKind.CHOICE, EventKind.UPLOAD})


class Dispatcher(StateRunner):
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

    # entry point --------------------------------------------------------------------------
    async def apply(self, session: Session, event: Event) -> Outcome:
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
        if session.status is SessionStatus.GRACE and event.kind in _USER_KINDS:
            session.status = SessionStatus.ACTIVE
            session.grace_until = None
            if session.workflow is not None and event.kind is not EventKind.COMMAND:
                self._ask(session, out, texts.WELCOME_BACK, [texts.CONTINUE_OPT, texts.OVER_OPT])
                return
        if event.kind is EventKind.COMMAND:
            await self._command(session, event, out)
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

    # commands -----------------------------------------------------------------------------
    async def _command(self, session: Session, event: Event, out: Outcome) -> None:
        name = event.text.lstrip("/").split("@", 1)[0].lower()
        workflow = self.registry.for_command(name)
        if workflow is not None:
            await self._start_workflow(session, workflow, event, out)
        elif name == "start":
            out.replies.append(Reply.say(texts.greeting(self.registry)))
            if session.workflow is not None:
                out.replies.append(Reply.say(texts.in_progress(self._workflow(session))))
        elif name == "help":
            await self._help(session, event, out)
        elif name == "cancel":
            if session.workflow is None:
                out.replies.append(Reply.say(texts.NOTHING_TO_CANCEL))
            else:
                left = self._workflow(session)
                await self._on_cancel(session, event, left, out)
                leave_workflow(session)
                out.replies.append(Reply.say(texts.cancelled(left)))
        elif name == "back":
            await self._back(session, event, out)
        elif name == "forget":
            options = [texts.FORGET_YES_OPT, texts.FORGET_NO_OPT]
            self._ask(session, out, texts.FORGET_CONFIRM, options)
        else:
            out.replies.append(Reply.say(texts.unknown_command(name, self.registry)))

    async def _interpret(self, session: Session, event: Event, out: Outcome) -> bool:
        """Free text (or an upload's caption) while idle, such as "train a random forest to
        predict price": start the workflow it names with what it says as ``data["intent"]``."""
        if event.kind not in (EventKind.TEXT, EventKind.UPLOAD) or not event.text.strip():
            return False
        found = self.registry.interpret(event.text)
        if found is None:
            return False
        name, slots = found
        workflow = self.registry.get(name)
        if workflow is None:
            return False
        await self._start_workflow(session, workflow, event, out, intent=slots)
        return True

    async def _start_workflow(
        self,
        session: Session,
        workflow: Workflow,
        event: Event,
        out: Outcome,
        *,
        intent: dict[str, str] | None = None,
    ) -> None:
        start = workflow.state(workflow.start)
        if self._blocked(session, workflow.requires + start.requires, out):
            return
        current = self._workflow(session)
        if current is not None:
            await self._on_cancel(session, event, current, out)
            out.replies.append(Reply.say(texts.leaving(current, workflow)))
        leave_workflow(session)
        session.workflow = workflow.name
        if intent:
            session.data["intent"] = dict(intent)
        await self._enter(session, workflow, start.name, event, out)

    async def _on_cancel(
        self, session: Session, event: Event, workflow: Workflow | None, out: Outcome
    ) -> None:
        """The workflow's own clean-up when the user leaves it (e.g. stop a running job)."""
        if workflow is not None and workflow.on_cancel is not None:
            await self._run(workflow.on_cancel, session, event, workflow, out)

    async def _help(self, session: Session, event: Event, out: Outcome) -> None:
        workflow = self._workflow(session)
        if workflow is None or session.state is None:
            out.replies.append(Reply.say(texts.command_list(self.registry)))
            return
        state = workflow.state(session.state)
        out.replies.append(Reply.say(state.help or texts.generic_help(workflow)))
        await self._reprompt(session, event, out)

    async def _back(self, session: Session, event: Event, out: Outcome) -> None:
        workflow = self._workflow(session)
        if workflow is None:
            out.replies.append(Reply.say(texts.NOTHING_TO_GO_BACK_TO))
            return
        if len(session.stack) < 2:
            out.replies.append(Reply.say(texts.AT_FIRST_STEP))
            await self._reprompt(session, event, out)
            return
        session.stack.pop()
        previous = session.stack[-1]
        if previous.get("state") not in workflow.by_name:
            self._quarantine(session, out)
            return
        session.state = str(previous["state"])
        session.data = clone_data(previous.get("data") or {})
        await self._reprompt(session, event, out)

    async def _builtin_choice(self, session: Session, event: Event, out: Outcome) -> None:
        if event.token != session.menu or not session.menu:
            out.replies.append(Reply.say(texts.STALE_MENU))
            await self._reprompt_or_commands(session, event, out)
        elif event.choice == CONTINUE:
            await self._reprompt_or_commands(session, event, out)
        elif event.choice == START_OVER:
            left = self._workflow(session)
            await self._on_cancel(session, event, left, out)
            leave_workflow(session)
            out.replies.append(Reply.say(texts.started_over(left, self.registry)))
        elif event.choice == FORGET_YES:
            out.forget = True
            out.replies.append(Reply.say(texts.FORGOTTEN))
        else:
            out.replies.append(Reply.say(texts.NOT_FORGOTTEN))
            await self._reprompt_or_commands(session, event, out)

    # helpers ------------------------------------------------------------------------------
    def _idle(self, event: Event, out: Outcome) -> None:
        if event.kind in (EventKind.JOB_PROGRESS, EventKind.TIMER):
            return
        if event.kind is EventKind.JOB_FINISHED:
            if event.text:
                out.replies.append(Reply.say(event.text))
            return
        out.replies.append(Reply.say(texts.idle(self.registry)))

    def _check_quarantine(self, session: Session, out: Outcome) -> None:
        if session.workflow is None:
            return
        workflow = self._workflow(session)
        if workflow is None or session.state not in workflow.by_name:
            self._quarantine(session, out)

    def _quarantine(self, session: Session, out: Outcome) -> None:
        log.warning(
            "session %s quarantined: workflow %r state %r no longer exist; reset",
            session.key,
            session.workflow,
            session.state,
        )
        leave_workflow(session)
        out.quarantined = True
        out.replies.append(Reply.say(texts.QUARANTINED))

    def _remember_input(self, session: Session, event: Event) -> None:
        text = _input_text(event)
        if text:
            session.remember("user", text, self.history_limit)


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
