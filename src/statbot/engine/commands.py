"""The engine's own commands and menus, the same in every workflow.

``/start``, ``/help``, ``/cancel``, ``/back`` and ``/forget``; the engine's Continue / Start over
and Forget yes / no menus; and starting a workflow, by its command or from free text that names
it. :class:`Builtins` adds these to the :class:`~statbot.engine.states.StateRunner`;
:mod:`statbot.engine.dispatch` routes each event to them or to the workflow's states.
"""

from __future__ import annotations

from statbot.engine import texts
from statbot.engine.events import Event, EventKind
from statbot.engine.gate import offered
from statbot.engine.replies import Reply
from statbot.engine.session import Session
from statbot.engine.states import Outcome, StateRunner, clone_data, leave_workflow, log_transition
from statbot.engine.workflow import Workflow

# Option ids of the engine's own menus. Workflows must not use ids starting with "__"
# (except replies.DONE_OPTION, which the channel sends for multi-select menus).
CONTINUE = texts.CONTINUE_OPT.id
START_OVER = texts.OVER_OPT.id
FORGET_YES = texts.FORGET_YES_OPT.id
FORGET_NO = texts.FORGET_NO_OPT.id
BUILTIN_CHOICES = frozenset({CONTINUE, START_OVER, FORGET_YES, FORGET_NO})
BUILTIN_COMMANDS = ("start", "help", "cancel", "back", "forget")


class Builtins(StateRunner):
    """A StateRunner that also answers the built-in commands and menus (the Dispatcher's base)."""

    def _offered(self, event: Event) -> list[Workflow]:
        """The workflows the event's user may start (issue 12: /help lists only those)."""
        return offered(self.permissions, self.registry, event)

    async def _reprompt_or_commands(self, session: Session, event: Event, out: Outcome) -> None:
        if session.workflow is None:
            out.replies.append(Reply.say(texts.command_list(self._offered(event))))
        else:
            await self._reprompt(session, event, out)

    async def _command(self, session: Session, event: Event, out: Outcome) -> None:
        name = event.text.lstrip("/").split("@", 1)[0].lower()
        workflow = self.registry.for_command(name)
        if workflow is not None:
            await self._start_workflow(session, workflow, event, out)
        elif name == "start":
            out.replies.append(Reply.say(texts.greeting(self._offered(event))))
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
                leave_workflow(session, event)
                out.replies.append(Reply.say(texts.cancelled(left)))
        elif name == "back":
            await self._back(session, event, out)
        elif name == "forget":
            options = [texts.FORGET_YES_OPT, texts.FORGET_NO_OPT]
            self._ask(session, out, texts.FORGET_CONFIRM, options)
        else:
            out.replies.append(Reply.say(texts.unknown_command(name, self._offered(event))))

    async def _interpret(self, session: Session, event: Event, out: Outcome) -> bool:
        """Free text (or an upload's caption) while idle, such as "train a random forest to
        predict price": start the workflow it names with what it says as ``data["intent"]``."""
        found = None
        if event.kind in (EventKind.TEXT, EventKind.UPLOAD) and event.text.strip():
            found = self.registry.interpret(event.text)
        if found is None and event.kind is EventKind.UPLOAD and self.registry.on_upload:
            found = (self.registry.on_upload, {})  # a file with nothing said: keep it, offer
        if found is None:
            return False
        name, slots = found
        workflow = self.registry.get(name)
        if workflow is None:
            return False
        await self._start_workflow(session, workflow, event, out, intent=slots)
        return True

    async def _help(self, session: Session, event: Event, out: Outcome) -> None:
        workflow = self._workflow(session)
        if workflow is None or session.state is None:
            out.replies.append(Reply.say(texts.command_list(self._offered(event))))
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
        log_transition(session, workflow.name, session.state or "", str(previous["state"]), event)
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
            leave_workflow(session, event)
            out.replies.append(Reply.say(texts.started_over(left, self._offered(event))))
        elif event.choice == FORGET_YES:
            out.forget = True
            out.replies.append(Reply.say(texts.FORGOTTEN))
        else:
            out.replies.append(Reply.say(texts.NOT_FORGOTTEN))
            await self._reprompt_or_commands(session, event, out)
