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
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from statbot.engine import texts
from statbot.engine.errors import TransitionError
from statbot.engine.events import Event, EventKind
from statbot.engine.replies import Option, Reply, ReplyKind
from statbot.engine.session import Session, SessionStatus
from statbot.engine.workflow import Context, Handler, Prerequisite, Workflow, WorkflowRegistry
from statbot.errors import StatbotError

log = logging.getLogger(__name__)

# Option ids of the engine's own menus. Workflows must not use ids starting with "__"
# (except replies.DONE_OPTION, which the channel sends for multi-select menus).
CONTINUE = texts.CONTINUE_OPT.id
START_OVER = texts.OVER_OPT.id
FORGET_YES = texts.FORGET_YES_OPT.id
FORGET_NO = texts.FORGET_NO_OPT.id
BUILTIN_CHOICES = frozenset({CONTINUE, START_OVER, FORGET_YES, FORGET_NO})
BUILTIN_COMMANDS = ("start", "help", "cancel", "back", "forget")
MAX_STACK = 64  # back-stack entries kept; a looping workflow must not grow a session forever
MAX_HOPS = 32  # on_enter -> goto chains longer than this are a workflow bug
_USER_KINDS = frozenset({EventKind.COMMAND, EventKind.TEXT, EventKind.CHOICE, EventKind.UPLOAD})


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


class _HandlerFailed(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class Dispatcher:
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
        self.registry = registry
        self.services = services
        self.history_limit = history_limit
        self.new_token = new_token or MenuTokens()
        self.rollback = rollback

    # entry point --------------------------------------------------------------------------
    async def apply(self, session: Session, event: Event) -> Outcome:
        out = Outcome(session)
        snapshot = _snapshot(session) if self.rollback else None
        self._remember_input(session, event)
        try:
            await self._route(session, event, out)
        except _HandlerFailed as failure:
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
                _leave(session)
                out.replies.append(Reply.say(texts.cancelled(left)))
        elif name == "back":
            await self._back(session, event, out)
        elif name == "forget":
            options = [texts.FORGET_YES_OPT, texts.FORGET_NO_OPT]
            self._ask(session, out, texts.FORGET_CONFIRM, options)
        else:
            out.replies.append(Reply.say(texts.unknown_command(name, self.registry)))

    async def _start_workflow(
        self, session: Session, workflow: Workflow, event: Event, out: Outcome
    ) -> None:
        start = workflow.state(workflow.start)
        if self._blocked(session, workflow.requires + start.requires, out):
            return
        current = self._workflow(session)
        if current is not None:
            await self._on_cancel(session, event, current, out)
            out.replies.append(Reply.say(texts.leaving(current, workflow)))
        _leave(session)
        session.workflow = workflow.name
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
        session.data = _clone(previous.get("data") or {})
        await self._reprompt(session, event, out)

    async def _builtin_choice(self, session: Session, event: Event, out: Outcome) -> None:
        if event.token != session.menu or not session.menu:
            out.replies.append(Reply.say(texts.STALE_MENU))
            await self._reprompt_or_commands(session, event, out)
        elif event.choice == CONTINUE:
            await self._reprompt_or_commands(session, event, out)
        elif event.choice == START_OVER:
            left = self._workflow(session)
            _leave(session)
            out.replies.append(Reply.say(texts.started_over(left, self.registry)))
        elif event.choice == FORGET_YES:
            out.forget = True
            out.replies.append(Reply.say(texts.FORGOTTEN))
        else:
            out.replies.append(Reply.say(texts.NOT_FORGOTTEN))
            await self._reprompt_or_commands(session, event, out)

    # inside a workflow --------------------------------------------------------------------
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
        if ctx.finished:
            _leave(session)
        elif ctx.next_state is not None:
            target = workflow.state(ctx.next_state)
            if not self._blocked(session, target.requires, out):
                await self._enter(session, workflow, target.name, event, out)

    async def _enter(
        self, session: Session, workflow: Workflow, name: str, event: Event, out: Outcome
    ) -> None:
        for _ in range(MAX_HOPS):
            state = workflow.state(name)
            session.state = name
            session.menu = self.new_token()
            session.stack.append({"state": name, "data": _clone(session.data)})
            del session.stack[:-MAX_STACK]
            if state.on_enter is None:
                if state.prompt:
                    out.replies.append(Reply.say(state.prompt))
            else:
                ctx = await self._run(state.on_enter, session, event, workflow, out)
                if ctx.forget_requested:
                    out.forget = True
                if ctx.finished:
                    _leave(session)
                    return
                if ctx.next_state is not None:
                    target = workflow.state(ctx.next_state)
                    if not self._blocked(session, target.requires, out):
                        name = target.name
                        continue
            if state.final and state.on_event is None:
                _leave(session)  # nothing can happen in an end state without a handler
            return
        raise _HandlerFailed(TransitionError(f"{workflow.name}: more than {MAX_HOPS} hops"))

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

    async def _reprompt_or_commands(self, session: Session, event: Event, out: Outcome) -> None:
        if session.workflow is None:
            out.replies.append(Reply.say(texts.command_list(self.registry)))
        else:
            await self._reprompt(session, event, out)

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
        except Exception as exc:
            log.error(
                "handler of %s/%s failed on %s for %s",
                workflow.name,
                session.state,
                event.event_id,
                session.key,
                exc_info=exc,
            )
            raise _HandlerFailed(exc) from exc
        menu = session.menu
        out.replies.extend(
            _with_token(r, menu) if r.kind is ReplyKind.CHOICES and not r.token else r
            for r in ctx.replies
        )
        return ctx

    # helpers ------------------------------------------------------------------------------
    def _ask(self, session: Session, out: Outcome, text: str, options: list[Option]) -> None:
        session.menu = self.new_token()
        out.replies.append(_with_token(Reply.ask(text, options), session.menu))

    def _blocked(self, session: Session, requires: tuple[Prerequisite, ...], out: Outcome) -> bool:
        for prerequisite in requires:
            try:
                met = prerequisite.check(session)
            except Exception as exc:
                log.error("prerequisite check failed for %s", session.key, exc_info=exc)
                raise _HandlerFailed(exc) from exc
            if not met:
                out.replies.append(Reply.say(prerequisite.message))
                return True
        return False

    def _idle(self, event: Event, out: Outcome) -> None:
        if event.kind in (EventKind.JOB_PROGRESS, EventKind.TIMER):
            return
        if event.kind is EventKind.JOB_FINISHED:
            if event.text:
                out.replies.append(Reply.say(event.text))
            return
        out.replies.append(Reply.say(texts.idle(self.registry)))

    def _workflow(self, session: Session) -> Workflow | None:
        return self.registry.get(session.workflow)

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
        _leave(session)
        out.quarantined = True
        out.replies.append(Reply.say(texts.QUARANTINED))

    def _remember_input(self, session: Session, event: Event) -> None:
        text = _input_text(event)
        if text:
            session.remember("user", text, self.history_limit)


def _leave(session: Session) -> None:
    session.workflow = None
    session.state = None
    session.data = {}
    session.stack = []
    session.menu = ""


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


def _clone(value: Any) -> Any:
    """Deep copy of session data, which must be JSON. Data a handler left that is not JSON is
    that handler's failure (sessions hold no pickles, DESIGN.md)."""
    kind = type(value)
    if kind is dict:
        return {k: _clone(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_clone(v) for v in value]
    if kind in _SCALARS:
        return value
    raise _HandlerFailed(
        TypeError(f"session data must be JSON-serialisable, not {kind.__name__}: {value!r:.80}")
    )


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
