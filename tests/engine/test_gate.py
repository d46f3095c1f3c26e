"""Gates (issue 12): a refused event is consumed in one commit, answered, and moves nothing."""

from __future__ import annotations

from statbot.engine import ConversationKey, Event, EventKind, Reply, Session, StateManager
from statbot.engine.gate import command_of
from statbot.engine.stores.memory import MemoryStore

A = ConversationKey("test", 1, 1)


class NoCounting:
    """Refuses the "count" command and anything said inside it."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    async def admit(self, session: Session, event: Event) -> list[Reply] | None:
        command = command_of(session, event)
        self.seen.append(command)
        return [Reply.say("Not for you.")] if command == "count" else None


async def test_a_refused_event_is_consumed_answered_and_changes_no_state(registry) -> None:
    store = MemoryStore()
    sent: list[str] = []

    async def deliver(key: str, items):  # type: ignore[no-untyped-def]
        sent.extend(i.reply.text for i in items)
        return [i.seq for i in items]

    gate = NoCounting()
    manager = StateManager(store, registry)
    manager.set_deliverer(deliver)
    manager.add_gate(gate)
    async with manager:
        await manager.submit(Event.from_update(A, 1, EventKind.COMMAND, text="/count"))
        await manager.submit(Event.from_update(A, 2, EventKind.TEXT, text="hello"))
        await manager.drain()
    session = await store.load(A)
    assert session is not None
    assert session.workflow is None and session.state is None
    assert session.last_update_id == 2  # both consumed: a replay applies neither again
    assert sent[0] == "Not for you."
    assert gate.seen == ["count", None]


def test_command_of_names_typed_pressed_and_current_commands() -> None:
    session = Session(key=A)
    assert (
        command_of(session, Event.from_update(A, 1, EventKind.COMMAND, text="/Train@bot x"))
        == "train"
    )
    press = Event.from_update(A, 2, EventKind.CHOICE, choice="/kb_get p-value", token="t")
    assert command_of(session, press) == "kb_get"
    assert command_of(session, Event.from_update(A, 3, EventKind.TEXT, text="hi")) is None
    session.workflow = "train"
    assert command_of(session, Event.from_update(A, 4, EventKind.TEXT, text="hi")) == "train"
