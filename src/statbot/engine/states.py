"""Running a workflow's states: entering them, calling handlers, following their requests.

The part of dispatch that knows about states and handlers; :mod:`statbot.engine.commands` adds
the built-in commands on top and :mod:`statbot.engine.dispatch` the routing. Entering a state runs
``on_enter`` (or sends ``prompt``), pushes ``{state, data}`` (the data as it was on entry) to the
back-stack and stamps a fresh menu token that every CHOICES reply of that state entry carries. A
session whose workflow or state no longer exists is quarantined: reset, and the user told.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from statbot.engine import texts
from statbot.engine.errors import TransitionError
from statbot.engine.events import Event, EventKind
from statbot.engine.gate import Permissions, refusal
from statbot.engine.replies import Option, Reply, ReplyKind
from statbot.engine.session import Session
from statbot.engine.workflow import Context, Handler, Prerequisite, Workflow, WorkflowRegistry

log = logging.getLogger("statbot.engine.dispatch")
# One INFO line per step transition (issue 15): who, which workflow, from -> to, which event.
# Names and ids only, never data values (what users typed, column or file names): a test feeds
# marker values through every workflow and looks for them in the logs
# (tests/workflows/test_no_values_in_logs.py).
# ASCII "->", so a stderr with an ASCII encoding can still write the line.
transitions = logging.getLogger("statbot.engine.transitions")
START, END = "(start)", "(end)"

MAX_STACK = 64  # back-stack entries kept; a looping workflow must not grow a session forever
MAX_HOPS = 32  # on_enter -> goto chains longer than this are a workflow bug


class MenuTokens:
    """Short random menu tokens. Not secrets: a token only tells a fresh button press from a
    stale one (the press is still checked against the session), so a cheap PRNG does; seeded
    from the OS so two processes do not hand out the same sequence."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)

    def __call__(self) -> str:
        return f"{self._random.getrandbits(32):08x}"


@dataclass
class Outcome:
    """What applying one event produced. ``session`` is the (mutated) session."""

    session: Session
    replies: list[Reply] = field(default_factory=list)
    forget: bool = False  # delete everything of this user (ctx.request_forget or /forget)
    quarantined: bool = False  # the stored workflow/state was unknown; session was reset
    failed: bool = False  # a handler raised; the session was left where it was
    dirty: bool = False  # failed without rollback: discard ``session``, reload it


class HandlerFailed(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class StateRunner:
    """Enters states and runs handlers for one registry (the base of the Dispatcher)."""

    def __init__(
        self,
        registry: WorkflowRegistry,
        *,
        services: Any = None,
        history_limit: int = 50,
        new_token: Callable[[], str] | None = None,
    ) -> None:
        self.registry = registry
        self.services = services
        self.history_limit = history_limit
        self.new_token = new_token or MenuTokens()
        self.permissions: Permissions | None = None  # see statbot.engine.gate

    async def _to_state(self, session: Session, event: Event, out: Outcome) -> None:
        workflow = self._workflow(session)
        assert workflow is not None and session.state is not None  # _check_quarantine
        state = workflow.state(session.state)
        if event.kind not in state.accepts or state.on_event is None:
            if event.kind in (EventKind.JOB_PROGRESS, EventKind.TIMER):
                return  # background noise for a step that no longer waits for it
            if event.kind is EventKind.JOB_FINISHED:
                if event.text:
                    out.replies.append(Reply.say(event.text))
                return
            out.replies.append(Reply.say(texts.unexpected(event.kind, state.accepts)))
            await self._reprompt(session, event, out)
            return
        ctx = await self._run(state.on_event, session, event, workflow, out)
        await self._follow(session, workflow, ctx, event, out)

    async def _follow(
        self, session: Session, workflow: Workflow, ctx: Context, event: Event, out: Outcome
    ) -> None:
        """Act on what a handler asked for: forget, finish or goto (checked)."""
        if ctx.forget_requested:
            out.forget = True
        if ctx.switch_to is not None and self.registry.get(ctx.switch_to[0]) is not None:
            target_workflow = self.registry.get(ctx.switch_to[0])
            assert target_workflow is not None
            await self._start_workflow(
                session, target_workflow, event, out, intent=ctx.switch_to[1]
            )
        elif ctx.finished:
            leave_workflow(session, event)
        elif ctx.next_state is not None:
            target = workflow.state(ctx.next_state)
            if not self._blocked(session, target.requires, out):
                await self._enter(session, workflow, target.name, event, out)

    async def _start_workflow(
        self,
        session: Session,
        workflow: Workflow,
        event: Event,
        out: Outcome,
        *,
        intent: dict[str, str] | None = None,
    ) -> None:
        """Leave the current workflow (its clean-up runs) and enter ``workflow``'s start, as its
        command, a free-text request, an idle upload or a handler's ``ctx.switch`` asks."""
        start = workflow.state(workflow.start)
        if (refused := refusal(self.permissions, event, workflow.name)) is not None:
            out.replies.append(Reply.say(refused))
            return
        if self._blocked(session, workflow.requires + start.requires, out):
            return
        current = self._workflow(session)
        if current is not None:
            await self._on_cancel(session, event, current, out)
            if current.command and not current.quiet_exit:  # hidden steps and readers: silently
                out.replies.append(Reply.say(texts.leaving(current, workflow)))
        leave_workflow(session, event)
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

    async def _enter(
        self, session: Session, workflow: Workflow, name: str, event: Event, out: Outcome
    ) -> None:
        for _ in range(MAX_HOPS):
            state = workflow.state(name)
            log_transition(session, workflow.name, session.state or START, name, event)
            session.state = name
            session.menu = self.new_token()
            session.stack.append({"state": name, "data": clone_data(session.data)})
            del session.stack[:-MAX_STACK]
            if state.on_enter is None:
                if state.prompt:
                    out.replies.append(Reply.say(state.prompt))
            else:
                ctx = await self._run(state.on_enter, session, event, workflow, out)
                if ctx.forget_requested:
                    out.forget = True
                if ctx.finished:
                    leave_workflow(session, event)
                    return
                if ctx.next_state is not None:
                    target = workflow.state(ctx.next_state)
                    if not self._blocked(session, target.requires, out):
                        name = target.name
                        continue
            if state.final and state.on_event is None:
                # nothing can happen in an end state without a handler
                leave_workflow(session, event)
            return
        raise HandlerFailed(TransitionError(f"{workflow.name}: more than {MAX_HOPS} hops"))

    async def _reprompt(self, session: Session, event: Event, out: Outcome) -> None:
        """Show the current state's prompt again (fresh menu token); never moves."""
        workflow = self._workflow(session)
        if workflow is None or session.state is None:
            return
        state = workflow.state(session.state)
        session.menu = self.new_token()
        if state.on_enter is not None:
            ctx = await self._run(state.on_enter, session, event, workflow, out, reprompt=True)
            if ctx.forget_requested:
                out.forget = True
        elif state.prompt:
            out.replies.append(Reply.say(state.prompt))

    async def _run(
        self,
        handler: Handler,
        session: Session,
        event: Event,
        workflow: Workflow,
        out: Outcome,
        *,
        reprompt: bool = False,
    ) -> Context:
        ctx = Context(session, event, workflow, self.services, history_limit=self.history_limit)
        ctx.reprompt = reprompt
        try:
            await handler(ctx)
            ctx.save_typed()
        except Exception as exc:
            log.error(
                "handler of %s/%s failed on %s for %s",
                workflow.name,
                session.state,
                event.event_id,
                session.key,
                exc_info=exc,
            )
            raise HandlerFailed(exc) from exc
        menu = session.menu
        out.replies.extend(
            _with_token(r, menu) if r.kind is ReplyKind.CHOICES and not r.token else r
            for r in ctx.replies
        )
        return ctx

    def _ask(self, session: Session, out: Outcome, text: str, options: list[Option]) -> None:
        session.menu = self.new_token()
        out.replies.append(_with_token(Reply.ask(text, options), session.menu))

    def _blocked(self, session: Session, requires: tuple[Prerequisite, ...], out: Outcome) -> bool:
        for prerequisite in requires:
            try:
                met = prerequisite.check(session)
            except Exception as exc:
                log.error("prerequisite check failed for %s", session.key, exc_info=exc)
                raise HandlerFailed(exc) from exc
            if not met:
                out.replies.append(Reply.say(prerequisite.message))
                return True
        return False

    def _workflow(self, session: Session) -> Workflow | None:
        return self.registry.get(session.workflow)

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


def log_transition(
    session: Session, workflow: str, source: str, target: str, event: Event | None
) -> None:
    """The transition line; ``event`` None (a caller that has none to give) logs ``-``."""
    transitions.info(
        "user %s %s: %s -> %s (event %s)",
        session.key.user_id,
        workflow,
        source,
        target,
        event.event_id if event is not None else "-",
    )


def leave_workflow(session: Session, event: Event | None = None) -> None:
    """End the current workflow (logged when there was one); ``event`` is the one ending it."""
    if session.workflow is not None:
        log_transition(session, session.workflow, session.state or START, END, event)
    session.workflow = None
    session.state = None
    session.data = {}
    session.stack = []
    session.menu = ""


def _with_token(reply: Reply, token: str) -> Reply:
    # dataclasses.replace is generic and slow; this runs for every menu shown.
    return Reply(
        reply.kind,
        reply.text,
        reply.options,
        reply.multi,
        reply.selected,
        reply.page_size,
        token,
        reply.path,
        reply.file_name,
        reply.progress_id,
        reply.fraction,
        reply.meta,
    )


_SCALARS = (str, int, float, bool, type(None))


def clone_data(value: Any) -> Any:
    """Deep copy of session data, which must be JSON. Data a handler left that is not JSON is
    that handler's failure (sessions hold no pickles, DESIGN.md)."""
    kind = type(value)
    if kind is dict:
        return {k: clone_data(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [clone_data(v) for v in value]
    if kind in _SCALARS:
        return value
    raise HandlerFailed(
        TypeError(f"session data must be JSON-serialisable, not {kind.__name__}: {value!r:.80}")
    )
