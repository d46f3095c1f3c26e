"""Workflow definitions are validated when defined; prerequisites, back and cancel."""

from __future__ import annotations

import pytest

from statbot.engine import (
    Context,
    ConversationKey,
    Dispatcher,
    Event,
    EventKind,
    Prerequisite,
    Session,
    State,
    Workflow,
    WorkflowDefinitionError,
    WorkflowRegistry,
)
from statbot.engine.errors import TransitionError


async def _noop(ctx: Context) -> None:
    return None


def wf(*states: State, start: str = "a", name: str = "w", command: str = "w") -> Workflow:
    return Workflow(name, command, "test flow", start, states)


def test_unknown_target_state_raises():
    with pytest.raises(WorkflowDefinitionError, match="unknown state 'zz'"):
        wf(State("a", on_event=_noop, next=("zz",)))


def test_unknown_start_state_raises():
    with pytest.raises(WorkflowDefinitionError, match="unknown start state"):
        wf(State("a", final=True), start="b")


def test_unreachable_state_raises():
    with pytest.raises(WorkflowDefinitionError, match=r"unreachable state\(s\) island"):
        wf(
            State("a", on_event=_noop, next=("b",)),
            State("b", final=True),
            State("island", final=True),
        )


def test_dead_end_that_is_not_final_raises():
    with pytest.raises(WorkflowDefinitionError, match="dead end"):
        wf(State("a", on_event=_noop, next=("b",)), State("b", on_event=_noop))


def test_duplicate_state_raises():
    with pytest.raises(WorkflowDefinitionError, match="duplicate state 'a'"):
        wf(State("a", final=True), State("a", final=True))


def test_non_final_state_without_handler_raises():
    with pytest.raises(WorkflowDefinitionError, match="no on_event"):
        wf(State("a", next=("b",)), State("b", final=True))


def test_duplicate_registration_raises():
    flow = wf(State("a", final=True))
    with pytest.raises(WorkflowDefinitionError, match="registered twice"):
        WorkflowRegistry([flow, flow])


def test_valid_workflow_is_accepted_and_indexed():
    flow = wf(State("a", on_event=_noop, next=("b",)), State("b", final=True))
    registry = WorkflowRegistry([flow])
    assert registry.for_command("w") is flow and registry.get("w") is flow
    assert flow.state("b").final


def test_goto_to_undeclared_state_raises_transition_error():
    flow = wf(State("a", on_event=_noop, next=("b",)), State("b", final=True))
    key = ConversationKey("t", 1, 1)
    session = Session(key, workflow="w", state="a")
    ctx = Context(session, Event(key, EventKind.TEXT, "e1"), flow)
    ctx.goto("b")
    assert ctx.next_state == "b"
    with pytest.raises(TransitionError):
        ctx.goto("a")


async def test_state_prerequisite_blocks_goto_with_its_message():
    async def go(ctx: Context) -> None:
        ctx.data["tries"] = ctx.data.get("tries", 0) + 1
        ctx.goto("b")

    def ready(session: Session) -> bool:
        return bool(session.context.get("dataset"))

    flow = wf(
        State("a", prompt="A?", on_event=go, next=("b",)),
        State(
            "b",
            prompt="B!",
            final=True,
            on_event=_noop,
            requires=(Prerequisite(ready, "Upload a dataset first."),),
        ),
    )
    dispatcher = Dispatcher(WorkflowRegistry([flow]))
    key = ConversationKey("t", 1, 1)
    session = Session(key)
    await dispatcher.apply(session, Event.from_update(key, 1, EventKind.COMMAND, text="w"))
    out = await dispatcher.apply(session, Event.from_update(key, 2, EventKind.TEXT, text="x"))
    assert [r.text for r in out.replies] == ["Upload a dataset first."]
    assert session.state == "a"
    session.context["dataset"] = "d1"
    out = await dispatcher.apply(session, Event.from_update(key, 3, EventKind.TEXT, text="x"))
    assert [r.text for r in out.replies] == ["B!"] and session.state == "b"


async def test_start_state_prerequisite_blocks_starting():
    flow = wf(
        State(
            "a",
            prompt="A?",
            final=True,
            on_event=_noop,
            requires=(Prerequisite(lambda s: False, "Not yet."),),
        )
    )
    dispatcher = Dispatcher(WorkflowRegistry([flow]))
    key = ConversationKey("t", 1, 1)
    session = Session(key)
    out = await dispatcher.apply(session, Event.from_update(key, 1, EventKind.COMMAND, text="w"))
    assert [r.text for r in out.replies] == ["Not yet."] and session.workflow is None


async def test_on_enter_can_advance_and_final_state_without_handler_ends_flow():
    async def skip(ctx: Context) -> None:
        ctx.reply("skipping")
        ctx.goto("end")

    flow = wf(
        State("a", on_enter=skip, on_event=_noop, next=("end",)),
        State("end", prompt="All done.", final=True),
    )
    dispatcher = Dispatcher(WorkflowRegistry([flow]))
    key = ConversationKey("t", 1, 1)
    session = Session(key)
    out = await dispatcher.apply(session, Event.from_update(key, 1, EventKind.COMMAND, text="w"))
    assert [r.text for r in out.replies] == ["skipping", "All done."]
    assert session.workflow is None


async def test_back_restores_the_previous_state_with_its_data_and_cancel_clears():
    async def keep(ctx: Context) -> None:
        ctx.data[ctx.session.state or "?"] = ctx.event.text
        ctx.goto({"a": "b", "b": "c"}[ctx.session.state or "a"])

    flow = wf(
        State("a", prompt="A?", on_event=keep, next=("b",)),
        State("b", prompt="B?", on_event=keep, next=("c",)),
        State("c", prompt="C?", on_event=_noop, final=True),
    )
    dispatcher = Dispatcher(WorkflowRegistry([flow]))
    key = ConversationKey("t", 1, 1)
    session = Session(key)
    ids = iter(range(1, 100))

    async def send(kind: EventKind, text: str) -> list[str]:
        event = Event.from_update(key, next(ids), kind, text=text)
        return [r.text for r in (await dispatcher.apply(session, event)).replies]

    await send(EventKind.COMMAND, "w")
    await send(EventKind.TEXT, "1")
    await send(EventKind.TEXT, "2")
    assert (session.state, session.data) == ("c", {"a": "1", "b": "2"})
    assert await send(EventKind.COMMAND, "back") == ["B?"]
    assert (session.state, session.data) == ("b", {"a": "1"})
    assert await send(EventKind.TEXT, "3") == ["C?"]
    assert session.data == {"a": "1", "b": "3"}
    replies = await send(EventKind.COMMAND, "cancel")
    assert replies == ["Cancelled *test flow*. Send a command when you want to start something."]
    assert (session.workflow, session.state, session.data, session.stack) == (None, None, {}, [])


class Tally:
    """A typed conversation data class, as workflows declare them (workflows/session_data.py)."""

    def __init__(self, count: int = 0, seen: list[str] | None = None) -> None:
        self.count = count
        self.seen = seen or []

    def to_dict(self) -> dict[str, object]:
        return {"count": self.count, "seen": self.seen}

    @classmethod
    def from_dict(cls, raw: dict) -> Tally:  # type: ignore[type-arg]
        return cls(int(raw.get("n", raw.get("count", 0))), list(raw.get("seen") or []))


async def test_typed_data_is_read_from_the_session_dict_and_saved_back_as_json():
    async def count(ctx: Context) -> None:
        tally = ctx.typed(Tally)
        assert ctx.typed(Tally) is tally  # one object for the whole handler
        tally.count += 1
        if ctx.event.text == "raw":
            ctx.data["raw"] = True  # the dict: the typed object is saved first, then read again
            ctx.typed(Tally).seen.append("after raw")
        if ctx.event.text == "boom":
            tally.count = 1000
            raise RuntimeError("boom")

    flow = Workflow(
        "w", "w", "typed", "a", (State("a", on_event=count, next=("a",)),), data=Tally.from_dict
    )
    dispatcher = Dispatcher(WorkflowRegistry([flow]))
    key = ConversationKey("t", 1, 1)
    session = Session(key)
    ids = iter(range(1, 100))

    async def send(kind: EventKind, text: str) -> None:
        await dispatcher.apply(session, Event.from_update(key, next(ids), kind, text=text))

    await send(EventKind.COMMAND, "w")
    session.data = {"n": 41}  # a key layout the loader still reads
    await send(EventKind.TEXT, "x")
    assert session.data == {"count": 42, "seen": []}
    await send(EventKind.TEXT, "raw")
    assert session.data == {"count": 43, "seen": ["after raw"]}
    await send(EventKind.TEXT, "boom")  # a failed handler saves nothing
    assert session.data == {"count": 43, "seen": ["after raw"]}


async def test_typed_data_of_a_workflow_that_declares_none_is_refused():
    async def wrong(ctx: Context) -> None:
        ctx.typed(Tally)

    flow = wf(State("a", on_event=wrong, next=("a",)))
    dispatcher = Dispatcher(WorkflowRegistry([flow]))
    key = ConversationKey("t", 1, 1)
    session = Session(key)
    await dispatcher.apply(session, Event.from_update(key, 1, EventKind.COMMAND, text="w"))
    out = await dispatcher.apply(session, Event.from_update(key, 2, EventKind.TEXT, text="x"))
    assert out.failed and session.data == {}
